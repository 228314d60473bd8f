import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.demo import DEMO_APPOINTMENTS, seed_demo_appointments, seed_demo_cases
from intake.invitations import invitation_url
from intake.models import Invitation

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
        invitations = seed_demo_appointments(staff=user, now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(f"Demo appointments added: {len(invitations)} (nothing sent).")
        )
        # Every run, not only the first: the link follows this run's secret key.
        _first_name, last_name, born, *_others = DEMO_APPOINTMENTS[0]
        demo = Invitation.objects.filter(patient__last_name=last_name).order_by("-pk").first()
        if demo is not None and demo.usable():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Try a patient's link: {invitation_url(demo)} "
                    f"(date of birth {born.day} {born.month} {born.year})"
                )
            )
        self.stdout.write(
            self.style.WARNING(
                f"Demo staff login for http://127.0.0.1:8000/admin/\n"
                f"    username: {DEMO_USERNAME}\n"
                f"    password: {password}"
            )
        )
