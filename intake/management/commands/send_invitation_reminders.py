from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.invitation_sending import invitation_messages_requeue_due, send_due_reminders


class Command(BaseCommand):
    help = (
        "Run every five minutes (deploy/systemd/clinic-reminders.timer): queue a reminder "
        "for every invitation whose questionnaire is not finished CLINIC_REMINDER_HOURS "
        "before its appointment (one per step, never twice), and another try of every "
        "invitation or reminder message whose try is overdue. Safe to run twice at once."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        requeued = invitation_messages_requeue_due(now=now)
        reminded = send_due_reminders(now)
        if requeued or reminded or options["verbosity"] > 1:
            self.stdout.write(
                f"Queued reminders for {reminded} invitation{'' if reminded == 1 else 's'}; "
                f"queued another try of {requeued} overdue message{'' if requeued == 1 else 's'}."
            )
