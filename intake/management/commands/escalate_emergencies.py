from django.core.management.base import BaseCommand
from django.utils import timezone

from intake.escalation import alert_deliveries_requeue_due, emergencies_escalate


class Command(BaseCommand):
    help = (
        "Run every minute (deploy/systemd/clinic-escalate.timer): queue another try of every "
        "emergency alert whose delivery is overdue, and escalate open emergencies nobody has "
        "acknowledged within CLINIC_EMERGENCY_OVERDUE_MINUTES (again every "
        "CLINIC_ESCALATION_REPEAT_MINUTES) or whose alert keeps failing. Safe to run twice at once."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        requeued = alert_deliveries_requeue_due(now=now)
        escalated = emergencies_escalate(now=now)
        if requeued or escalated or options["verbosity"] > 1:
            self.stdout.write(
                f"Queued {requeued} overdue alert deliver{'y' if requeued == 1 else 'ies'}; "
                f"escalated {len(escalated)} emergenc{'y' if len(escalated) == 1 else 'ies'}"
                + (f": {', '.join(escalated)}." if escalated else ".")
            )
