import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from intake.demo import DEMO_CASES, demo_answers, demo_token
from intake.models import Case
from intake.services import case_submit

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

        created = 0
        today = timezone.localdate()
        for first, last, days, minutes_ago, changes in DEMO_CASES:
            token = demo_token(last)
            if Case.objects.filter(submission_token=token).exists():
                continue
            with transaction.atomic():
                case = case_submit(
                    details={
                        "first_name": first,
                        "last_name": last,
                        "date_of_birth": datetime.date(
                            1950 + created * 3, 1 + created, 1 + created
                        ),
                        "phone": f"555-01{created:02d}",
                        "email": f"{last.lower()}@example.com",
                    },
                    answers=demo_answers(changes, symptoms_days_ago=days, today=today),
                    submission_token=token,
                )
                # Spread the demo cases over the last hours so "waited" differs.
                Case.objects.filter(pk=case.pk).update(
                    submitted_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
                )
            created += 1

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
