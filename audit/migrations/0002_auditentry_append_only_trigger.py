"""On PostgreSQL, the database itself refuses to change or delete audit rows."""

from django.db import migrations

from clinic.append_only import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only_trigger("audit_auditentry")]
