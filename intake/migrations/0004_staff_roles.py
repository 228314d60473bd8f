"""Create the staff roles (groups) with their permissions; see intake/roles.py."""

from django.db import migrations


def create_staff_roles(apps, schema_editor):
    from intake.roles import ensure_staff_roles

    ensure_staff_roles(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_case_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Reversing keeps the groups: they may have members by then.
    operations = [migrations.RunPython(create_staff_roles, migrations.RunPython.noop)]
