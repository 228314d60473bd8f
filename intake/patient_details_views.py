"""Staff accept the details a patient typed on a case onto the patient record.

A returning patient's questionnaire never changes their record (issue 18:
anyone could otherwise rename a patient on all their earlier cases); the case
page shows where what was typed differs, and a member of staff who may correct
answers decides here.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import AuditEntry
from audit.services import audit_record

from .models import Case
from .services import CaseError, patient_update_from_case

PERM_UPDATE_PATIENT = "intake.correct_case_answers"


@require_POST
def update_patient_from_case(request, case_id: str):
    """POST: the patient record takes the details typed on this case (one service call)."""
    if not request.user.has_perm(PERM_UPDATE_PATIENT):
        raise PermissionDenied
    if not str(case_id).isdigit():
        raise Http404
    case = get_object_or_404(Case.objects.select_related("patient"), pk=int(case_id))
    try:
        patient_update_from_case(case=case, by=request.user)
    except CaseError as error:
        messages.warning(request, str(error))
    else:
        audit_record(
            request=request,
            action=AuditEntry.Action.CHANGE,
            object_type="patient",
            object_id=case.patient_id,
            object_label=f"from case {case.reference}",
            status_code=302,
        )
        messages.success(
            request,
            _("The patient record now has the details typed on %(reference)s.")
            % {"reference": case.reference},
        )
    return HttpResponseRedirect(reverse("admin:intake_case_change", args=[case.pk]))
