"""Everything held about one patient, as plain data (for a records request)."""

from django.db.models import Prefetch

from ..models import Case, CaseEvent, Patient


def patient_record(patient_id: int) -> dict:
    """The patient's details, every case with its answers and triage, and each timeline.

    Raises Patient.DoesNotExist for an unknown id.
    """
    patient = Patient.objects.prefetch_related(
        Prefetch(
            "cases",
            queryset=Case.objects.select_related("assigned_to")
            .prefetch_related(
                Prefetch("events", queryset=CaseEvent.objects.select_related("author"))
            )
            .order_by("submitted_at"),
        )
    ).get(pk=patient_id)
    return {
        "patient": {
            "id": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": patient.phone,
            "email": patient.email,
            "first_seen": patient.created_at.isoformat(),
        },
        "cases": [
            {
                "reference": case.reference,
                "submitted_at": case.submitted_at.isoformat(),
                "language": case.language,
                "appointment_date": case.appointment_date.isoformat()
                if case.appointment_date
                else None,
                "status": case.status,
                "assigned_to": case.assigned_to.get_username() if case.assigned_to else None,
                "tier": case.tier,
                "red_flags": list(case.flags),
                "reasons": list(case.reasons),
                "answers": dict(case.answers),
                "timeline": [
                    {
                        "when": event.created_at.isoformat(),
                        "by": event.author.get_username() if event.author else None,
                        "kind": event.kind,
                        "what": event.summary,
                        "note": event.text,
                        "before": event.before,
                        "after": event.after,
                    }
                    for event in case.events.all()
                ],
            }
            for case in patient.cases.all()
        ],
    }
