"""Clinic tablet mode: a shared device that forgets the last patient (issue 19).

Staff make a device a clinic tablet from the admin (``clinic_tablet_admin_view``):
it then carries a signed, long-lived device cookie. On such a device:

- a questionnaire left untouched for ``CLINIC_TABLET_IDLE_SECONDS`` is wiped
  before any patient page runs (``ClinicTabletMiddleware``): its draft row is
  deleted and its cookie dropped, so the next person sees nothing of it. A case
  already sent early is the clinic's and stays;
- the page warns a minute before and keeps the draft alive while the patient
  is still there (``static/js/tablet.js`` posts to ``tablet_keep_alive``), and
  wipes through ``tablet_clear`` when the time is up;
- the finish page asks for the tablet back and forgets the questionnaire: its
  response deletes the draft cookie and the draft, so Back or a reload shows
  nothing, and it returns to the start by itself after a minute
  (``templates/intake/_tablet.html``);
- a wiped questionnaire takes the patient's choice of language with it.

Personal devices (no valid device cookie) keep the usual 24-hour resume.
"""

import datetime
import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.core.exceptions import BadRequest
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEntry
from audit.services import audit_record

from .models import IntakeDraft
from .services import draft_token_hash
from .views import DRAFT_COOKIE

logger = logging.getLogger(__name__)

#: The device cookie; its value is signed with its own salt, so no other
#: signed value of the app can stand in for it.
TABLET_COOKIE = "clinic_tablet"
TABLET_SALT = "intake.tablet.device"
#: Who may switch a device: staff who handle patients at the desk (front desk
#: and clinicians hold it; superusers hold everything).
PERM_SWITCH_TABLET = "intake.change_case_status"
#: The patient pages; the draft cookie's path too.
INTAKE_PATH = "/intake/"
#: ``/intake/?cleared=1`` is where the page's script lands after a wipe.
CLEARED_PARAMETER = "cleared"


# The device cookie -----------------------------------------------------------


def tablet_device_id(request: HttpRequest) -> str | None:
    """The id in this device's tablet cookie if it is genuine and not expired, else None."""
    value = request.COOKIES.get(TABLET_COOKIE)
    if not value:
        return None
    try:
        payload = signing.loads(
            value,
            salt=TABLET_SALT,
            max_age=datetime.timedelta(days=settings.CLINIC_TABLET_COOKIE_DAYS),
        )
    except signing.BadSignature:  # tampered, signed for something else, or expired
        return None
    device = payload.get("device") if isinstance(payload, dict) else None
    return device if isinstance(device, str) and device else None


def is_clinic_tablet(request: HttpRequest) -> bool:
    """Whether staff made this device a clinic tablet (a valid signed device cookie)."""
    return tablet_device_id(request) is not None


def set_tablet_cookie(response: HttpResponse, request: HttpRequest, device_id: str) -> None:
    response.set_cookie(
        TABLET_COOKIE,
        signing.dumps({"device": device_id}, salt=TABLET_SALT),
        max_age=settings.CLINIC_TABLET_COOKIE_DAYS * 86400,
        path="/",
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def delete_tablet_cookie(response: HttpResponse) -> None:
    response.delete_cookie(TABLET_COOKIE, path="/", samesite="Lax")


def _delete_draft_cookie(response: HttpResponse) -> None:
    response.delete_cookie(DRAFT_COOKIE, path=INTAKE_PATH, samesite="Lax")


def _forget_language(response: HttpResponse) -> None:
    """The next person starts in the clinic's language, not in the last patient's choice."""
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# Writes ------------------------------------------------------------------------


def _idle_cutoff(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=settings.CLINIC_TABLET_IDLE_SECONDS)


def tablet_draft_wipe_if_idle(*, raw_token: str, now: datetime.datetime) -> bool:
    """Delete the draft if it was last touched more than the idle time ago; True if it went.

    One conditional statement, so a keep-alive landing at the same moment
    either saves the draft or finds it gone, never half of each. A case the
    draft already sent keeps its answers (the draft only points at it).
    """
    deleted, _ = IntakeDraft.objects.filter(
        token_hash=draft_token_hash(raw_token), updated_at__lt=_idle_cutoff(now)
    ).delete()
    return deleted > 0


def tablet_draft_wipe(*, raw_token: str) -> None:
    """Delete the draft now (the page's time ran out, or it was sent and shown)."""
    IntakeDraft.objects.filter(token_hash=draft_token_hash(raw_token)).delete()


def tablet_draft_touch(*, raw_token: str, now: datetime.datetime) -> bool:
    """Mark the draft as used now, unless it is already past the idle time; True if kept."""
    return (
        IntakeDraft.objects.filter(
            token_hash=draft_token_hash(raw_token), updated_at__gte=_idle_cutoff(now)
        ).update(updated_at=now)
        > 0
    )


# The middleware ------------------------------------------------------------------


def tablet_seconds_left(raw_token: str | None) -> int:
    """How long this browser's questionnaire has before it counts as idle (all of it if none)."""
    idle = settings.CLINIC_TABLET_IDLE_SECONDS
    if not raw_token:
        return idle
    try:
        updated_at = (
            IntakeDraft.objects.filter(token_hash=draft_token_hash(raw_token))
            .values_list("updated_at", flat=True)
            .first()
        )
    except DatabaseError:
        return idle  # the page's own save failed too; it says so
    if updated_at is None:
        return idle
    elapsed = (timezone.now() - updated_at).total_seconds()
    return max(0, min(idle, int(idle - elapsed)))


class ClinicTabletMiddleware:
    """Sets ``request.clinic_tablet``; on a tablet, forgets an idle questionnaire.

    For every page under ``/intake/`` on a tablet, before the view runs: a
    draft idle longer than ``CLINIC_TABLET_IDLE_SECONDS`` is deleted and its
    cookie removed from the request, so the view sees no draft and shows
    nothing of it; ``request.tablet_cleared`` tells the page to say so, and the
    response drops the cookie. ``request.tablet_seconds_left()`` is how long
    the draft has left of ``request.tablet_idle_seconds``, read when the page
    is drawn (after the view saved it), for the page's warning;
    ``request.tablet_has_draft`` whether the browser came with a
    questionnaire (the page has nothing to clear if not, and its form is empty).
    The finish
    page's response drops the draft cookie, and its draft.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.done_path = None

    def __call__(self, request):
        request.clinic_tablet = is_clinic_tablet(request)
        request.tablet_cleared = False
        request.tablet_idle_seconds = settings.CLINIC_TABLET_IDLE_SECONDS
        request.tablet_seconds_left = settings.CLINIC_TABLET_IDLE_SECONDS
        request.tablet_has_draft = False
        on_tablet_page = request.clinic_tablet and request.path_info.startswith(INTAKE_PATH)
        wiped_now = False
        if on_tablet_page:
            wiped_now = self._forget_idle_draft(request)
            request.tablet_has_draft = bool(request.COOKIES.get(DRAFT_COOKIE))
            request.tablet_seconds_left = lambda: tablet_seconds_left(
                request.COOKIES.get(DRAFT_COOKIE)
            )
            if request.method == "GET" and request.GET.get(CLEARED_PARAMETER) == "1":
                request.tablet_cleared = True  # the page's script wiped it (tablet_clear)
        response = self.get_response(request)
        finish_page = on_tablet_page and request.path_info == self._done_path()
        if (wiped_now or finish_page) and DRAFT_COOKIE not in response.cookies:
            # (A questionnaire the view has just started keeps its cookie.)
            _delete_draft_cookie(response)
        if wiped_now and settings.LANGUAGE_COOKIE_NAME not in response.cookies:
            # (Not on the finish page: its patient may still read on in their language.)
            _forget_language(response)
        if finish_page:
            raw_token = request.COOKIES.get(DRAFT_COOKIE)
            if raw_token and response.status_code == 200:
                # The finish page was shown: its draft, which only names the
                # case now, goes too, so nothing is left to come back to.
                try:
                    tablet_draft_wipe(raw_token=raw_token)
                except DatabaseError:  # the cookie is dropped all the same
                    logger.exception("Database unavailable while clearing a clinic tablet")
        return response

    def _forget_idle_draft(self, request) -> bool:
        """Wipe this browser's draft if it is idle; True if it was."""
        raw_token = request.COOKIES.get(DRAFT_COOKIE)
        if not raw_token:
            return False
        try:
            wiped = tablet_draft_wipe_if_idle(raw_token=raw_token, now=timezone.now())
        except DatabaseError:
            # The view cannot read the draft either: it shows its calm 503 page.
            logger.exception("Database unavailable while checking a clinic tablet's draft")
            return False
        if wiped:
            del request.COOKIES[DRAFT_COOKIE]
            request.tablet_cleared = True
            if request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None) is not None:
                # The last patient's choice of language goes with their answers:
                # this page is in the language the browser asks for, as at the start.
                translation.activate(translation.get_language_from_request(request))
                request.LANGUAGE_CODE = translation.get_language()
        return wiped

    def _done_path(self) -> str:
        if self.done_path is None:
            self.done_path = reverse("intake:done")
        return self.done_path


# The page's script's endpoints ------------------------------------------------------


@never_cache
@require_POST
def tablet_keep_alive(request):
    """The patient is still there: the draft counts as used now (CSRF-protected POST).

    Answers ``{"cleared": true}`` if the draft was already past the idle time
    (the middleware wiped it; the page then goes to the start), else how many
    seconds the page may wait before its next warning and wipe.
    """
    if getattr(request, "tablet_cleared", False):
        return JsonResponse({"cleared": True})
    raw_token = request.COOKIES.get(DRAFT_COOKIE)
    if raw_token:
        tablet_draft_touch(raw_token=raw_token, now=timezone.now())
    return JsonResponse({"cleared": False, "seconds_left": settings.CLINIC_TABLET_IDLE_SECONDS})


@never_cache
@require_POST
def tablet_clear(request):
    """The page's time ran out: forget its questionnaire and show the start page, saying so."""
    raw_token = request.COOKIES.get(DRAFT_COOKIE)
    if raw_token:
        tablet_draft_wipe(raw_token=raw_token)
    response = HttpResponseRedirect(f"{reverse('intake:start')}?{CLEARED_PARAMETER}=1")
    _delete_draft_cookie(response)
    _forget_language(response)
    return response


# The admin screen ------------------------------------------------------------------


def _idle_time_in_words(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required(PERM_SWITCH_TABLET, raise_exception=True)
def clinic_tablet_admin_view(request, *, admin_site):
    """Staff switch the device they are using into clinic tablet mode, or out of it.

    Registered by ``CaseAdmin.get_urls`` (so ``admin_site.admin_view`` checks
    the staff login first). Each switch is written to the audit log with the
    device's id, which the cookie carries.
    """
    device_id = tablet_device_id(request)
    if request.method == "GET":
        context = {
            **admin_site.each_context(request),
            "title": gettext("Clinic tablet mode"),
            "is_tablet": device_id is not None,
            "device_id": device_id,
            "idle_time": _idle_time_in_words(settings.CLINIC_TABLET_IDLE_SECONDS),
        }
        return TemplateResponse(request, "admin/intake/tablet_mode.html", context)

    if request.POST.get("tablet") not in ("on", "off"):
        raise BadRequest("tablet must be on or off")
    turn_on = request.POST["tablet"] == "on"
    response = HttpResponseRedirect(request.path)
    if turn_on:
        device_id = device_id or secrets.token_hex(8)
        set_tablet_cookie(response, request, device_id)
        message = gettext(
            "This device is now a clinic tablet. Sign out before you hand it to a patient."
        )
    else:
        delete_tablet_cookie(response)
        message = gettext("This device is no longer a clinic tablet.")
    audit_record(
        request=request,
        action=AuditEntry.Action.CHANGE,
        object_type="clinic tablet",
        object_id=device_id or "",
        object_label="tablet mode on" if turn_on else "tablet mode off",
        status_code=response.status_code,
        details={"clinic_tablet": turn_on},
    )
    messages.success(request, message)
    return response
