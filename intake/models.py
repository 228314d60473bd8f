"""Patients, their cases, the case timeline and unfinished questionnaires."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinic.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet

from . import triage


def age_in_years(born: datetime.date, day: datetime.date) -> int:
    """Age in whole years on ``day`` for someone born on ``born``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Patient(models.Model):
    """A person who has filled in the questionnaire at least once.

    The same person coming back is matched on last name, date of birth and
    phone (SPEC "Cases"); the two *_key columns hold the normalised forms so
    the match is one indexed lookup and the database enforces it.
    """

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("email"), blank=True)
    last_name_key = models.CharField(max_length=100, editable=False)
    phone_key = models.CharField(max_length=40, editable=False)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["last_name_key", "date_of_birth", "phone_key"],
                name="patient_identity_unique",
            ),
        ]
        # The patients list is in name order: without this index every view of
        # it sorted every patient to show the first hundred.
        indexes = [models.Index(fields=["last_name", "first_name"], name="patient_name")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: datetime.date) -> int:
        return age_in_years(self.date_of_birth, day)

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


def overdue_after(tier: str) -> datetime.timedelta | None:
    """How long a case of ``tier`` may wait unreviewed (SPEC "What each tier promises").

    Emergencies: ``CLINIC_EMERGENCY_OVERDUE_MINUTES``; urgent cases:
    ``CLINIC_URGENT_OVERDUE_HOURS``; other tiers are never overdue.
    """
    if tier == triage.EMERGENCY:
        return datetime.timedelta(minutes=settings.CLINIC_EMERGENCY_OVERDUE_MINUTES)
    if tier == triage.URGENT:
        return datetime.timedelta(hours=settings.CLINIC_URGENT_OVERDUE_HOURS)
    return None


def overdue_limit_in_words(tier: str) -> str:
    if tier == triage.EMERGENCY:
        minutes = settings.CLINIC_EMERGENCY_OVERDUE_MINUTES
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if tier == triage.URGENT:
        hours = settings.CLINIC_URGENT_OVERDUE_HOURS
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ""


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=Case.OPEN_STATUSES)

    def red_flag_queue(self):
        """Open emergency and urgent cases, most dangerous and longest waiting first.

        The order is the stored priority (computed by triage) then submission
        time, which the partial index ``case_red_flag_queue`` serves directly.
        """
        return self.filter(status__in=Case.OPEN_STATUSES, tier__in=triage.QUEUE_TIERS).order_by(
            "priority", "submitted_at", "pk"
        )


class Case(models.Model):
    """One submitted questionnaire, its triage result and its handling."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_REVIEW = "in_review", _("In review")
        CONTACTED = "contacted", _("Contacted")
        SCHEDULED = "scheduled", _("Visit booked")
        SENT_TO_EMERGENCY = "sent_to_emergency", _("Sent to emergency")
        CLOSED = "closed", _("Closed")

    class Tier(models.TextChoices):
        EMERGENCY = triage.EMERGENCY, _("Emergency")
        URGENT = triage.URGENT, _("Urgent")
        SOON = triage.SOON, _("Soon")
        ROUTINE = triage.ROUTINE, _("Routine")

    OPEN_STATUSES = (Status.NEW, Status.IN_REVIEW, Status.CONTACTED)
    #: Cases still in the clinic's hands: re-assessed when the rules change.
    ACTIVE_STATUSES = (*OPEN_STATUSES, Status.SCHEDULED)

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="cases", verbose_name=_("patient")
    )
    submission_token = models.UUIDField(unique=True, editable=False)
    answers = models.JSONField(_("answers"), default=dict)
    #: The "About you" details exactly as the patient typed them this time
    #: (SPEC "Cases"): a later submission never changes them, and the patient
    #: record changes only when staff accept them (``patient_update_from_case``).
    #: Empty for cases stored before details were kept per case.
    details = models.JSONField(_("details as typed"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    appointment_date = models.DateField(_("appointment date"), null=True, blank=True)
    symptoms_started = models.DateField(_("symptoms started"), null=True, blank=True)
    consented_at = models.DateTimeField(_("consent given"), editable=False)

    tier = models.CharField(_("tier"), max_length=12, choices=Tier.choices)
    flags = models.JSONField(_("red flags"), default=list)
    reasons = models.JSONField(_("reasons"), default=list)
    priority = models.PositiveSmallIntegerField(_("queue priority"))
    #: The version of the triage rules that gave the tier (triage.RULES_VERSION).
    #: The database default is 1: cases stored before versions were kept, and
    #: cases an app server still on the old code stores during a rolling
    #: deploy, were assessed by the first table (``reassess_cases`` finds them).
    rules_version = models.PositiveSmallIntegerField(_("rules version"), db_default=1)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assigned to"),
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now, editable=False)
    reviewed_at = models.DateTimeField(_("first reviewed"), null=True, blank=True)
    #: Created from the answers so far, the moment they made an emergency
    #: (SPEC "Patient-facing safety"); the patient may add the rest later.
    created_early = models.BooleanField(_("created at the first warning sign"), db_default=False)
    #: When the patient sent the last step (null while an early case is unfinished).
    completed_at = models.DateTimeField(_("questionnaire finished"), null=True, blank=True)
    #: An emergency is acknowledged by a staff member (one action, or moving
    #: it to in review or contacted); until then it escalates.
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    #: When the case last became an emergency (its submission, or a later
    #: correction, answers or rules change): escalation counts from here, so
    #: a case raised today is not treated as unacknowledged since it was sent.
    emergency_since = models.DateTimeField(_("emergency since"), null=True, blank=True)
    #: The last escalation sent for this unacknowledged emergency, and how many.
    escalated_at = models.DateTimeField(_("last escalated"), null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(_("escalations"), db_default=0)
    #: The emergency alert's delivery, as the queue row shows it (kept here so
    #: the queue needs no query per row): "" none, pending, sent, failing.
    alert_state = models.CharField(_("alert"), max_length=10, blank=True, db_default="")
    #: When the alert was sent, or since when it has been failing or pending.
    alert_state_at = models.DateTimeField(_("alert state since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    #: For a follow-up, the first case of its chain (issue 22); the baseline
    #: itself has none. A follow-up's answers are compared with the previous
    #: case of the chain (``intake.selectors.case_chain``). A follow-up is a
    #: case of its own, so the queue, its order and its alerts treat it as any.
    baseline = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-submitted_at"]
        # Every write to a case goes through a service; each service has its own
        # permission so staff roles can differ (intake/roles.py). The built-in
        # "change case" permission is unused: the admin never edits a case directly.
        permissions = [
            ("change_case_status", "Can change the status of a case"),
            ("assign_case", "Can assign a case to a staff member"),
            ("add_case_note", "Can add a note to a case"),
            ("correct_case_answers", "Can correct a case's answers (re-runs triage)"),
        ]
        indexes = [
            models.Index(
                fields=["priority", "submitted_at"],
                name="case_red_flag_queue",
                condition=Q(status__in=["new", "in_review", "contacted"])
                & Q(tier__in=["emergency", "urgent"]),
            ),
            # The red-flag summary on the queue and the admin index (open
            # emergencies, overdue ones, open urgent cases) is counted from this
            # index alone, however many closed cases the table holds.
            models.Index(
                fields=["tier", "reviewed_at", "submitted_at", "id"],
                name="case_red_flag_summary",
                condition=Q(status__in=["new", "in_review", "contacted"])
                & Q(tier__in=["emergency", "urgent"]),
            ),
            # Cases the clinic still handles, found by the rules version that
            # assessed them: a rules change re-assesses them without reading
            # the closed cases.
            models.Index(
                fields=["rules_version", "id"],
                name="case_rules_version_active",
                condition=Q(status__in=["new", "in_review", "contacted", "scheduled"]),
            ),
            # The escalation job's one query: open emergencies nobody has
            # acknowledged, oldest first.
            models.Index(
                fields=["emergency_since"],
                name="case_unacknowledged_emergency",
                condition=Q(status__in=["new", "in_review", "contacted"])
                & Q(tier="emergency")
                & Q(acknowledged_at__isnull=True),
            ),
            models.Index(fields=["-submitted_at"], name="case_submitted_desc"),
            models.Index(fields=["status", "tier"], name="case_status_tier"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__in=["emergency", "urgent", "soon", "routine"]),
                name="case_tier_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "new",
                        "in_review",
                        "contacted",
                        "scheduled",
                        "sent_to_emergency",
                        "closed",
                    ]
                ),
                name="case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reference__startswith="C-"), name="case_reference_prefix"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=99), name="case_priority_range"
            ),
            models.CheckConstraint(condition=Q(rules_version__gte=1), name="case_rules_version"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """An open emergency or urgent case nobody has reviewed within its tier's time."""
        limit = overdue_after(self.tier)
        if limit is None or self.reviewed_at is not None or not self.is_open:
            return False
        return timezone.now() - self.submitted_at > limit

    @property
    def overdue_limit_in_words(self) -> str:
        """The tier's review time as staff read it: "15 minutes", "4 hours"."""
        return overdue_limit_in_words(self.tier)

    @property
    def flag_labels(self) -> list[str]:
        return [triage.flag_label(flag) for flag in self.flags]


class TimelineIsAppendOnly(AppendOnlyError):
    pass


class CaseEvent(AppendOnlyModel):
    """One entry in a case's append-only timeline."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STATUS = "status", _("Status changed")
        ASSIGNMENT = "assignment", _("Assigned")
        NOTE = "note", _("Note")
        CORRECTION = "correction", _("Answer corrected")
        ALERT = "alert", _("Alert")
        REASSESSMENT = "reassessment", _("Re-assessed with new rules")
        ANSWERS_ADDED = "answers_added", _("Answers added by the patient")
        ACKNOWLEDGED = "acknowledged", _("Emergency acknowledged")
        ESCALATION = "escalation", _("Escalated")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    summary = models.CharField(_("what"), max_length=300)
    text = models.TextField(_("note"), blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    append_only_error = TimelineIsAppendOnly
    chain_fields = (
        "case_id",
        "kind",
        "author_id",
        "created_at",
        "summary",
        "text",
        "before",
        "after",
    )

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="caseevent_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.summary}"


class IntakeDraft(models.Model):
    """An unfinished questionnaire, kept for one browser so the patient can resume.

    The browser holds a random token in a cookie; only its SHA-256 is stored,
    so a copy of the database does not let anyone take over a draft.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    #: What the patient typed, per step, valid or not.
    data = models.JSONField(default=dict)
    #: Per step, the cleaned answers if ``data`` was valid when saved, else null.
    answers = models.JSONField(default=dict)
    #: The day (clinic time) every step in ``answers`` was validated on; null if
    #: they were validated on different days. Validation depends on the clock
    #: only through that day, so on the same day they need no second check.
    answers_checked_on = models.DateField(null=True, blank=True)
    submission_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: The personal link this questionnaire was opened from, if any (issue 21).
    invitation = models.ForeignKey(
        "Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="drafts"
    )
    #: For a follow-up questionnaire (issue 22): the case it follows up. Kept on
    #: the draft so every page knows, without a query, to ask the follow-up's
    #: questions.
    follow_up_of = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("unfinished questionnaire")
        verbose_name_plural = _("unfinished questionnaires")

    def __str__(self) -> str:
        return f"draft {self.pk}"


class AlertDelivery(models.Model):
    """One alert (or escalation) to send on one channel, retried until it is delivered.

    Made in the same transaction as the change that calls for it, so it is
    never lost; the unique constraint makes it exactly one per case, channel,
    kind and escalation number, however often the change is retried.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        WEBHOOK = "webhook", _("webhook")

    class Kind(models.TextChoices):
        ALERT = "alert", _("emergency alert")
        ESCALATION = "escalation", _("escalation")

    class State(models.TextChoices):
        PENDING = "pending", _("not yet delivered")
        SENT = "sent", _("delivered")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alert_deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    #: 0 for the alert; 1, 2, ... for each escalation of the case.
    escalation_number = models.PositiveSmallIntegerField(default=0)
    recipients = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: The type of the last error (never its message: it may hold addresses).
    last_error = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "channel", "kind", "escalation_number"],
                name="alert_delivery_once",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent"]), name="alert_delivery_state_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="alert_delivery_due",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} by {self.channel}: {self.state}"


class AlertAttempt(models.Model):
    """One try at delivering an alert: when, how it went, the error type only."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("delivered")
        FAILED = "failed", _("failed")

    delivery = models.ForeignKey(
        AlertDelivery, on_delete=models.PROTECT, related_name="attempt_log"
    )
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_type = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("alert attempt")
        verbose_name_plural = _("alert attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.outcome} at {self.at:%H:%M:%S}"


class RateLimitCounter(models.Model):
    """Questionnaire posts counted for one client in this time window and the last.

    One row per client, moved on when a new window starts; the two counts
    give a sliding-window estimate (see ``services.rate_limit_hit``). The
    client address is stored only as a hash; ``purge_intake_drafts`` deletes
    rows of windows long past.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    window_start = models.DateTimeField(db_index=True)
    hits = models.PositiveIntegerField()
    #: The previous window's count, for the sliding-window estimate.
    prev_hits = models.PositiveIntegerField(db_default=0)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.hits} since {self.window_start:%H:%M:%S}"


class RedFlagCase(Case):
    """The red-flag queue: the same cases, listed by danger (see CaseQuerySet.red_flag_queue)."""

    class Meta:
        proxy = True
        verbose_name = _("red-flag case")
        verbose_name_plural = _("red-flag queue")


# Appointments and invitations (issue 21) ------------------------------------
#
# An appointment belongs to a patient record made or found when it is entered,
# so the case sent through its personal link is tied to that record and to the
# appointment without matching by name or phone. The link's random token is
# stored only as a SHA-256, like a draft's.


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CANCELLED = "cancelled", _("cancelled")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("patient")
    )
    starts_at = models.DateTimeField(_("appointment"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.BOOKED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at"], name="appointment_starts_at")]

    def __str__(self) -> str:
        return f"appointment {self.pk}"


class Invitation(models.Model):
    """The personal questionnaire link for one appointment, and what became of it."""

    #: The visit the questionnaire is for (a pre-visit invitation); none for a follow-up.
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("appointment"),
    )
    #: The patient the link is for, whose date of birth opens it.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        related_name="invitations",
        verbose_name=_("patient"),
    )
    #: For a follow-up (issue 22): the case whose course it asks about.
    follow_up_of = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_up_invitations",
        verbose_name=_("follow-up of"),
    )
    #: When the first message goes out (now, or a follow-up scheduled for later).
    send_after = models.DateTimeField(_("send from"), default=timezone.now)
    #: The link's token is an HMAC of this salt under the app's secret key, so
    #: a reminder sent days later carries the same link without the token
    #: being stored (``intake.invitations.invitation_token``); only its hash is.
    token_salt = models.CharField(max_length=32, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    #: Where the link and its reminders go; at least one of the two.
    email = models.EmailField(_("email"), blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    #: The link works until the end of the appointment's day (clinic time).
    expires_at = models.DateTimeField(_("link valid until"))
    opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    #: Wrong dates of birth typed on the link; at ``MAX_BIRTH_DATE_TRIES`` it locks.
    failed_checks = models.PositiveSmallIntegerField(_("wrong dates of birth"), default=0)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    reminders_stopped_at = models.DateTimeField(_("reminders stopped"), null=True, blank=True)
    case = models.OneToOneField(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("case"),
    )
    finished_at = models.DateTimeField(_("questionnaire finished"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    #: Three wrong dates of birth lock the link (issue 21).
    MAX_BIRTH_DATE_TRIES = 3

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(mobile=""), name="invitation_has_an_address"
            )
        ]
        indexes = [
            # The reminder job's question: no case yet (a case made early at a
            # warning sign stops reminders too), not stopped, not yet expired.
            models.Index(
                fields=["expires_at"],
                name="invitation_waiting",
                condition=Q(
                    case__isnull=True,
                    finished_at__isnull=True,
                    reminders_stopped_at__isnull=True,
                    locked_at__isnull=True,
                ),
            )
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk}"

    def usable(self, now: datetime.datetime | None = None) -> bool:
        """Whether the link still opens the questionnaire."""
        now = now or timezone.now()
        return (
            self.locked_at is None
            and self.finished_at is None
            and now < self.expires_at
            and (self.appointment is None or self.appointment.status == Appointment.Status.BOOKED)
        )


class InvitationMessage(models.Model):
    """One message about an invitation on one channel: the link, or a reminder."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("invitation")
        REMINDER = "reminder", _("reminder")

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("text message")

    class State(models.TextChoices):
        PENDING = "pending", _("not yet sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("could not be sent")
        #: Not sent, and never will be: by the time of its try the appointment
        #: was cancelled, the link closed, or (a reminder) the questionnaire
        #: finished or reminders stopped. ``last_error`` says which.
        SKIPPED = "skipped", _("not needed any more")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    #: For a reminder, how many hours before the appointment it is due; 0 for the invitation.
    hours_before = models.PositiveSmallIntegerField(default=0)
    #: Sent again by staff: the number of the resend (0 for the first).
    resend_number = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    #: When a pending message is next tried (``intake.invitation_sending``):
    #: moved on at each try, so a duplicate task leaves it alone.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    #: When it was last tried, whatever the outcome.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: Why the last try failed, or why it was skipped: an error type or a
    #: reason, never an error's message (it may hold an address).
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # Exactly one of each message, however often the job runs.
            models.UniqueConstraint(
                fields=["invitation", "kind", "channel", "hours_before", "resend_number"],
                name="invitation_message_once",
            )
        ]
        indexes = [
            # The scheduled job's question: which pending messages are overdue a try.
            models.Index(
                fields=["next_attempt_at"],
                name="invitation_message_due",
                condition=Q(state="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} ({self.state})"
