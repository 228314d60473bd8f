import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.demo import seed_demo_cases

DEMO_USERNAME = "demo-staff"


class Command(BaseCommand):
    help = "Create a demo staff login (new password printed each run) and a few fake cases."

    def handle(self, *args, **options):
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo-staff@example.com"}
        )
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()

        # Each demo case is stored at its own demo time (intake/demo.py), so its
        # timeline agrees with it.
        created = seed_demo_cases(staff=user, now=timezone.now())

        self.stdout.write(
            self.style.SUCCESS(f"Demo cases added: {created} (fake people, 555 numbers).")
        )
        self.stdout.write(
            self.style.WARNING(
                f"Demo staff login for http://127.0.0.1:8000/admin/\n"
                f"    username: {DEMO_USERNAME}\n"
                f"    password: {password}"
            )
        )
