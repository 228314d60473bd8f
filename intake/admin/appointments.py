"""Appointments (issue 21): "Upcoming visits", one appointment by hand, a CSV import.

The appointment list of the admin *is* the "Upcoming visits" screen: a chosen
day or week, each appointment with its invitation's state in words, open
emergencies first, the count of each state, and two buttons per row (send the
link again, cancel) that post to small views calling the services below. The
add page is the form for one appointment; ``import/`` takes a CSV file
(``intake/appointment_import.py``), shows every problem or a preview, and
imports only a file with none.

Front desk and above may use all of it (``intake/roles.py``): viewing needs
``view_appointment``, entering and importing ``add_appointment``, resending
and cancelling ``change_appointment``. Nobody edits or deletes an appointment
row directly.
"""

import datetime
import re
import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from audit.models import AuditEntry
from audit.services import audit_record

from .. import appointment_import as csv_import
from ..invitation_sending import queue_invitation_messages
from ..invitations import (
    NewAppointment,
    VisitActionRefused,
    appointment_create,
    invitation_resend,
    visit_cancel,
)
from ..models import Appointment
from ..templatetags.intake_admin import language_in_words, staff_date, staff_datetime
from ..visits import VisitState, upcoming_visits, visit_state_counts
from .common import STYLESHEET, TIER_LABELS

PERM_VIEW = "intake.view_appointment"
PERM_ADD = "intake.add_appointment"
PERM_CHANGE = "intake.change_appointment"

#: Rows on one page of "Upcoming visits"; the counts are for the whole day or week.
VISITS_PER_PAGE = 200
#: How long a checked file waits for "Import" (in the shared cache, this user only).
PREVIEW_SECONDS = 30 * 60
#: Rows of a good file shown before "Import"; the rest are counted.
PREVIEW_ROWS = 100
#: Room for the form's other fields around the file, when judging a request's size.
UPLOAD_SLACK_BYTES = 64 * 1024


# Forms -------------------------------------------------------------------------------


class AppointmentEntryForm(forms.Form):
    """One appointment typed by staff; the same checks as a row of a CSV file."""

    first_name = forms.CharField(label=_("First name"), max_length=csv_import.NAME_MAX_LENGTH)
    last_name = forms.CharField(label=_("Last name"), max_length=csv_import.NAME_MAX_LENGTH)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("YYYY-MM-DD"),
    )
    mobile = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=csv_import.MOBILE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("Email"),
        required=False,
        max_length=csv_import.EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("A mobile number, an email address, or both: the link goes to each."),
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=())
    appointment_date = forms.DateField(
        label=_("Appointment date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    appointment_time = forms.TimeField(
        label=_("Appointment time"),
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("24-hour clock, clinic time."),
    )
    note = forms.CharField(
        label=_("Note for staff (optional)"),
        required=False,
        max_length=csv_import.NOTE_MAX_LENGTH,
        widget=forms.Textarea({"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = csv_import.language_choices()

    def clean_first_name(self):
        return csv_import.clean_name(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return csv_import.clean_name(self.cleaned_data["last_name"])

    def clean_date_of_birth(self):
        return csv_import.clean_date_of_birth(
            self.cleaned_data["date_of_birth"], today=timezone.localdate()
        )

    def clean_mobile(self):
        return csv_import.clean_mobile(self.cleaned_data["mobile"])

    def clean_email(self):
        return csv_import.clean_email(self.cleaned_data["email"])

    def clean_note(self):
        return csv_import.clean_note(self.cleaned_data["note"])

    def clean(self):
        data = super().clean()
        contact_errors = "mobile" in self.errors or "email" in self.errors
        if not contact_errors and not (data.get("mobile") or data.get("email")):
            self.add_error(None, gettext("Give a mobile number, an email address or both."))
        day, time = data.get("appointment_date"), data.get("appointment_time")
        if day is not None and time is not None:
            try:
                data["starts_at"] = csv_import.clean_starts_at(
                    csv_import.appointment_moment(day, time), now=timezone.now()
                )
            except ValidationError as error:
                self.add_error("appointment_date", error)
        if not self.errors:
            new = self.new_appointment()
            row = csv_import.CheckedRow(0, new)
            key = csv_import.duplicate_key(new.last_name, new.date_of_birth, new.starts_at)
            if key in csv_import.booked_keys([row]):
                raise ValidationError(
                    gettext(
                        "This patient already has an invitation for this appointment "
                        "(same last name, date of birth, date and time)."
                    )
                )
        return data

    def new_appointment(self) -> NewAppointment:
        data = self.cleaned_data
        return NewAppointment(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            starts_at=data["starts_at"],
            email=data["email"],
            mobile=data["mobile"],
            language=data["language"],
            note=data["note"],
        )


class AppointmentFileForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": _("Please choose a CSV file.")},
    )


class VisitsPeriodForm(forms.Form):
    """The day (or the week it is in) that "Upcoming visits" shows; sent with GET."""

    day = forms.DateField(
        label=_("Day"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    span = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("day", _("that day")), ("week", _("its week (Monday to Sunday)"))],
    )

    def period(self) -> tuple[datetime.date, datetime.date, str]:
        """First day, day after the last, and "day" or "week" (today when the form is wrong)."""
        data = self.cleaned_data if self.is_valid() else {}
        day = data.get("day") or timezone.localdate()
        if data.get("span") == "week":
            first = day - datetime.timedelta(days=day.weekday())
            return first, first + datetime.timedelta(days=7), "week"
        return day, day + datetime.timedelta(days=1), "day"


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes ``limit`` bytes (the rest is never stored)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


# The admin ---------------------------------------------------------------------------


def _day_moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time()), timezone.get_default_timezone()
    )


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Upcoming visits (the list), one appointment by hand (add), a CSV import; read-only rows."""

    fields = (
        "patient_link",
        "when",
        "status",
        "state_in_words",
        "contact",
        "language",
        "note",
        "created_by",
        "created_when",
        "cancelled_when",
    )
    readonly_fields = fields

    class Media:
        css = {"all": (STYLESHEET,)}

    # Who may do what: the role's permissions, never row edits or deletes.

    def has_change_permission(self, request, obj=None) -> bool:
        """No raw editing: resend and cancel are the only changes, each its own view."""
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Appointments are cancelled, never deleted (their cases point at them)."""
        return False

    def _require(self, request: HttpRequest, permission: str) -> None:
        if not request.user.has_perm(permission):
            raise PermissionDenied

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("patient", "created_by", "invitation", "invitation__case")
        )

    # The read-only page of one appointment.

    @admin.display(description=_("patient"))
    def patient_link(self, appointment: Appointment) -> str:
        url = reverse(
            "admin:intake_patient_change",
            args=(quote(appointment.patient_id),),
            current_app=self.admin_site.name,
        )
        return format_html(
            '<a href="{}">{}</a> ({})',
            url,
            appointment.patient,
            staff_date(appointment.patient.date_of_birth),
        )

    @admin.display(description=_("appointment"))
    def when(self, appointment: Appointment) -> str:
        return staff_datetime(appointment.starts_at)

    @admin.display(description=_("invitation"))
    def state_in_words(self, appointment: Appointment) -> str:
        visit = upcoming_visits(
            start=appointment.starts_at,
            end=appointment.starts_at + datetime.timedelta(microseconds=1),
        ).get(pk=appointment.pk)
        return visit_state_html(visit, admin_site_name=self.admin_site.name)

    @admin.display(description=_("sent to"))
    def contact(self, appointment: Appointment) -> str:
        invitation = getattr(appointment, "invitation", None)
        if invitation is None:
            return ""
        return ", ".join(value for value in (invitation.mobile, invitation.email) if value)

    @admin.display(description=_("language"))
    def language(self, appointment: Appointment) -> str:
        invitation = getattr(appointment, "invitation", None)
        return language_in_words(invitation.language if invitation else "")

    @admin.display(description=_("entered"))
    def created_when(self, appointment: Appointment) -> str:
        return staff_datetime(appointment.created_at)

    @admin.display(description=_("cancelled"))
    def cancelled_when(self, appointment: Appointment) -> str:
        return staff_datetime(appointment.cancelled_at) or gettext("no")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The appointment's read-only page, its viewing recorded like a case's or a patient's.

        The audit middleware records the case and patient screens by URL name;
        this page shows a patient's name and date of birth, so it records itself.
        """
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit_record(
                request=request,
                action=AuditEntry.Action.VIEW,
                object_type="appointment",
                object_id=unquote(object_id),
                object_label=f"appointment {unquote(object_id)}",
                status_code=200,
            )
        return response

    # URLs: the list is "Upcoming visits"; add is the form; import, resend, cancel.

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(csrf_exempt(self.import_entry_view)), name=f"{prefix}_import"),
            path("<path:object_id>/resend/", wrap(self.resend_view), name=f"{prefix}_resend"),
            path("<path:object_id>/cancel/", wrap(self.cancel_view), name=f"{prefix}_cancel"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            "media": self.media,
            "can_add": request.user.has_perm(PERM_ADD),
            "can_change": request.user.has_perm(PERM_CHANGE),
            **extra,
        }

    def _visits_url(self, day: datetime.date | None = None, span: str = "day") -> str:
        url = reverse("admin:intake_appointment_changelist", current_app=self.admin_site.name)
        if day is None:
            return url
        return f"{url}?{urlencode({'day': day.isoformat(), 'span': span})}"

    # Upcoming visits.

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Upcoming visits: a day or week, states in words and counted, open emergencies first."""
        if request.method != "GET" and request.method != "HEAD":
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        self._require(request, PERM_VIEW)
        period_form = VisitsPeriodForm(request.GET or None)
        first, after, span = period_form.period()
        visits = upcoming_visits(start=_day_moment(first), end=_day_moment(after))
        counts = visit_state_counts(visits)
        total = sum(counts.values())
        paginator = Paginator(visits, VISITS_PER_PAGE)
        paginator.count = total  # already counted, by state: no second COUNT query
        page = paginator.get_page(request.GET.get("p"))
        step = datetime.timedelta(days=7 if span == "week" else 1)
        rows = [
            {
                "appointment": visit,
                "state": visit_state_html(visit, admin_site_name=self.admin_site.name),
                "contact": _contact(visit),
                "can_resend": visit.visit_state not in NOT_RESENDABLE,
                "can_cancel": visit.status == Appointment.Status.BOOKED,
            }
            for visit in page.object_list
        ]
        # The audit middleware records lists of cases and patients by URL name; this
        # list shows patients too, so it records its own entry, one per view.
        audit_record(
            request=request,
            action=AuditEntry.Action.LIST,
            object_type="appointment",
            status_code=200,
            details={"from": first.isoformat(), "span": span, "appointments": total},
        )
        context = self._context(
            request,
            gettext("Upcoming visits"),
            period_form=period_form,
            first_day=first,
            last_day=after - datetime.timedelta(days=1),
            span=span,
            rows=rows,
            page=page,
            total=total,
            counts=[
                (state, VisitState.LABELS[state], VisitState.MEANINGS[state], counts[state])
                for state in VisitState.LABELS
            ],
            previous_url=self._visits_url(first - step, span),
            next_url=self._visits_url(first + step, span),
            today_url=self._visits_url(timezone.localdate(), span),
            page_query=urlencode({"day": first.isoformat(), "span": span}),
            **(extra_context or {}),
        )
        return TemplateResponse(request, "admin/intake/appointment/upcoming_visits.html", context)

    # One appointment by hand.

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        """The form for one appointment; saving creates it and queues its invitation."""
        self._require(request, PERM_ADD)
        if request.method == "POST":
            form = AppointmentEntryForm(request.POST)
            if form.is_valid():
                # The appointment and its first messages together, or neither.
                with transaction.atomic():
                    invitation = appointment_create(new=form.new_appointment(), by=request.user)
                    queue_invitation_messages(invitation=invitation)
                starts_at = form.cleaned_data["starts_at"]
                self.message_user(
                    request,
                    gettext("Appointment of %(when)s entered; the link is on its way.")
                    % {"when": staff_datetime(starts_at)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._visits_url(timezone.localdate(starts_at)))
        else:
            form = AppointmentEntryForm(initial={"language": csv_import.clean_language("")})
        context = self._context(
            request, gettext("Enter an appointment"), form=form, media=self.media + form.media
        )
        return TemplateResponse(request, "admin/intake/appointment/entry_form.html", context)

    # The CSV import.

    def import_entry_view(self, request: HttpRequest) -> HttpResponse:
        """Refuse a file too large before reading its body, then check CSRF as usual.

        Exempt from the CSRF middleware (which would read the whole body to find
        the token) so that the size can be judged first; the view behind it is
        protected. Too large a body by its declared length is refused unread; an
        upload that turns out longer stops being read at the limit.
        """
        self._require(request, PERM_ADD)
        if request.method == "POST":
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > csv_import.MAX_FILE_BYTES + UPLOAD_SLACK_BYTES:
                return self._import_page(
                    request,
                    AppointmentFileForm(),
                    problems=[csv_import.too_large_problem()],
                    status=413,
                )
            limiter = SizeLimitedUploadHandler(request, csv_import.MAX_FILE_BYTES)
            request.upload_handlers.insert(0, limiter)
            request.upload_limiter = limiter
        return csrf_protect(self.import_view)(request)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the columns and the upload form. POST: check the file, or import a checked one."""
        if request.method != "POST":
            return self._import_page(request, AppointmentFileForm())
        if "preview" in request.POST:
            return self._import_checked(request, request.POST.get("preview", ""))
        form = AppointmentFileForm(request.POST, request.FILES)
        limiter = getattr(request, "upload_limiter", None)
        if limiter is not None and limiter.exceeded:
            return self._import_page(
                request,
                AppointmentFileForm(),
                problems=[csv_import.too_large_problem()],
                status=413,
            )
        if not form.is_valid():
            return self._import_page(request, form, status=400)
        upload = form.cleaned_data["file"]
        if upload.size > csv_import.MAX_FILE_BYTES:
            return self._import_page(
                request,
                AppointmentFileForm(),
                problems=[csv_import.too_large_problem()],
                status=413,
            )
        content = upload.read(csv_import.MAX_FILE_BYTES + 1)
        checked = csv_import.appointments_check_csv(content=content)
        if not checked.is_valid:
            return self._import_page(request, AppointmentFileForm(), problems=checked.problems)
        preview = secrets.token_urlsafe(16)
        cache.set(self._preview_key(request, preview), content, PREVIEW_SECONDS)
        return self._import_page(
            request,
            AppointmentFileForm(),
            checked=checked,
            preview=preview,
            file_name=upload.name,
        )

    @staticmethod
    def _preview_key(request: HttpRequest, preview: str) -> str:
        return f"appointment-import:{request.user.pk}:{preview}"

    def _import_checked(self, request: HttpRequest, preview: str) -> HttpResponse:
        """Import the file checked a moment ago (kept for this user only), all or nothing."""
        # The key is ours (token_urlsafe); anything else names no checked file.
        well_formed = re.fullmatch(r"[A-Za-z0-9_-]{16,64}", preview) is not None
        key = self._preview_key(request, preview if well_formed else "")
        content = cache.get(key) if well_formed else None
        if not isinstance(content, bytes):
            self.message_user(
                request,
                gettext("That checked file is no longer kept: please upload it again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)
        try:
            invitations = csv_import.appointments_import_csv(content=content, by=request.user)
        except csv_import.ImportRejected as rejected:
            cache.delete(key)
            return self._import_page(request, AppointmentFileForm(), problems=rejected.problems)
        # The service's audit entry lists the appointments; the audit middleware
        # records this request (who, from where) as a change.
        cache.delete(key)
        self.message_user(
            request,
            ngettext(
                "%(count)d appointment imported; its link is on its way.",
                "%(count)d appointments imported; their links are on their way.",
                len(invitations),
            )
            % {"count": len(invitations)},
            messages.SUCCESS,
        )
        first = min(invitation.appointment.starts_at for invitation in invitations)
        span = (
            "week"
            if max(invitation.appointment.starts_at for invitation in invitations) - first
            > datetime.timedelta(days=1)
            else "day"
        )
        return HttpResponseRedirect(self._visits_url(timezone.localdate(first), span))

    def _import_page(
        self,
        request: HttpRequest,
        form: forms.Form,
        *,
        problems: list | None = None,
        checked: csv_import.CheckedFile | None = None,
        status: int = 200,
        **extra,
    ) -> HttpResponse:
        problems = problems or []
        context = self._context(
            request,
            gettext("Import appointments from a CSV file"),
            form=form,
            columns=[(name, meaning) for name, meaning in csv_import.CSV_COLUMNS.items()],
            required_columns=csv_import.REQUIRED_COLUMNS,
            max_megabytes=csv_import.MAX_FILE_BYTES // (1024 * 1024),
            max_rows=csv_import.MAX_ROWS,
            problems=problems[: csv_import.MAX_PROBLEMS],
            more_problems=max(len(problems) - csv_import.MAX_PROBLEMS, 0),
            checked=checked,
            preview_rows=checked.rows[:PREVIEW_ROWS] if checked else [],
            more_rows=max(len(checked.rows) - PREVIEW_ROWS, 0) if checked else 0,
            **extra,
        )
        return TemplateResponse(
            request, "admin/intake/appointment/import.html", context, status=status
        )

    # Resend and cancel.

    def _appointment_for(self, request: HttpRequest, object_id: str) -> Appointment:
        self._require(request, PERM_CHANGE)
        key = unquote(object_id)
        if not (key.isascii() and key.isdigit() and int(key) < 2**63):
            raise Http404(gettext("No appointment with that ID."))
        appointment = (
            Appointment.objects.select_related("patient", "invitation").filter(pk=key).first()
        )
        if appointment is None:
            raise Http404(gettext("No appointment with that ID."))
        return appointment

    def _back(self, request: HttpRequest, appointment: Appointment) -> HttpResponseRedirect:
        """To the day or week the button was on (``day`` and ``span`` posted with it)."""
        form = VisitsPeriodForm(request.POST)
        if form.is_valid() and form.cleaned_data.get("day"):
            return HttpResponseRedirect(
                self._visits_url(form.cleaned_data["day"], form.cleaned_data.get("span") or "day")
            )
        return HttpResponseRedirect(self._visits_url(timezone.localdate(appointment.starts_at)))

    @method_decorator(require_POST)
    def resend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Send the link again on every channel (``invitation_resend``)."""
        appointment = self._appointment_for(request, object_id)
        invitation = getattr(appointment, "invitation", None)
        if invitation is None:
            raise Http404(gettext("This appointment has no invitation."))
        try:
            queued = invitation_resend(invitation=invitation, by=request.user)
        except VisitActionRefused as refused:
            self.message_user(
                request, gettext("Not sent again: %(why)s") % {"why": refused}, messages.WARNING
            )
        else:
            self.message_user(
                request,
                gettext("The link for %(who)s (%(when)s) is being sent again by %(channels)s.")
                % {
                    "who": appointment.patient,
                    "when": staff_datetime(appointment.starts_at),
                    "channels": ", ".join(str(message.get_channel_display()) for message in queued),
                },
                messages.SUCCESS,
            )
        return self._back(request, appointment)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: ask to confirm. POST: cancel the appointment (``visit_cancel``)."""
        appointment = self._appointment_for(request, object_id)
        if request.method == "POST":
            try:
                visit_cancel(appointment=appointment, by=request.user)
            except VisitActionRefused as refused:
                self.message_user(request, str(refused), messages.WARNING)
            else:
                self.message_user(
                    request,
                    gettext("The appointment of %(who)s on %(when)s is cancelled.")
                    % {"who": appointment.patient, "when": staff_datetime(appointment.starts_at)},
                    messages.SUCCESS,
                )
            return self._back(request, appointment)
        period = VisitsPeriodForm(request.GET)
        context = self._context(
            request,
            gettext("Cancel an appointment"),
            appointment=appointment,
            day=(period.cleaned_data.get("day") if period.is_valid() else None)
            or timezone.localdate(appointment.starts_at),
            span=(period.cleaned_data.get("span") if period.is_valid() else "") or "day",
        )
        return TemplateResponse(request, "admin/intake/appointment/cancel.html", context)


#: States in which sending the link again would reach nobody who could use it.
NOT_RESENDABLE = {VisitState.CANCELLED, VisitState.FINISHED, VisitState.LOCKED}


def _contact(appointment: Appointment) -> str:
    invitation = getattr(appointment, "invitation", None)
    if invitation is None:
        return ""
    return ", ".join(value for value in (invitation.mobile, invitation.email) if value)


def visit_state_html(appointment: Appointment, *, admin_site_name: str) -> str:
    """The state in words; with a case, its tier in words and a link to it."""
    state = appointment.visit_state
    words = format_html(
        '<strong class="visit-state visit-state-{}">{}</strong>',
        state,
        VisitState.LABELS[state],
    )
    invitation = getattr(appointment, "invitation", None)
    case = invitation.case if invitation is not None else None
    if case is None:
        return words
    url = reverse("admin:intake_case_change", args=(quote(case.pk),), current_app=admin_site_name)
    return format_html(
        '{} <span class="case-tier case-tier-{}">{}</span> <a href="{}">{}</a>',
        words,
        case.tier,
        TIER_LABELS.get(case.tier, case.tier),
        url,
        case.reference,
    )
