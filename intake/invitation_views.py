"""The patient's personal link (issue 21): confirm the date of birth, then the questionnaire.

Nothing of the patient's is shown before their date of birth is confirmed;
an unknown, expired, cancelled, finished or locked link gets the same calm
page, so a link never hints at whose it was. See ``intake.invitations``.
"""

from django import forms
from django.conf import settings
from django.db import DatabaseError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .forms import DatePartsField
from .invitations import (
    invitation_check_birth_date,
    invitation_for_token,
    invitation_start_questionnaire,
    invitation_stop_reminders,
)
from .selectors import draft_for_token
from .views import DRAFT_COOKIE, _set_draft_cookie, _set_language_cookie


class BirthDateForm(forms.Form):
    date_of_birth = DatePartsField(
        label=_("Your date of birth"),
        help_text=_("For example, 27 3 1956."),
        error_messages={"required": _("Please enter your date of birth.")},
    )


def _closed(request):
    """The one page for every link that does not open: no hint of whose it was."""
    return render(request, "intake/invitation_closed.html", status=404)


#: The link's token, kept in a signed cookie once the link is opened, so the
#: page that asks for the date of birth has an address without the token
#: (no token in the browser's history, in a Referer or in a second log line).
LINK_COOKIE = "clinic_invitation"
LINK_COOKIE_PATH = "/intake/invite/"
LINK_COOKIE_SECONDS = 3600


@never_cache
@require_GET
def invitation(request, token: str):
    """The link itself: remembered in this browser, then the page that asks the date of birth."""
    found = invitation_for_token(token)
    if found is None or not found.usable():
        return _closed(request)
    response = redirect("intake:invitation_confirm")
    response.set_signed_cookie(
        LINK_COOKIE,
        token,
        salt=LINK_COOKIE,
        max_age=LINK_COOKIE_SECONDS,
        path=LINK_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    if not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        _set_language_cookie(response, found.language)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_confirm(request):
    """Ask for the date of birth; when it matches, start the questionnaire prefilled."""
    token = request.get_signed_cookie(
        LINK_COOKIE, default=None, salt=LINK_COOKIE, max_age=LINK_COOKIE_SECONDS
    )
    found = invitation_for_token(token)
    if found is None or not found.usable():
        return _closed(request)
    form = BirthDateForm(data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if invitation_check_birth_date(invitation=found, typed=form.cleaned_data["date_of_birth"]):
            return _start(request, found)
        if found.locked_at is not None:
            return _closed(request)
        left = found.MAX_BIRTH_DATE_TRIES - found.failed_checks
        form.add_error(
            "date_of_birth",
            ngettext(
                "This date of birth does not match. You can try %(count)s more time.",
                "This date of birth does not match. You can try %(count)s more times.",
                left,
            )
            % {"count": left},
        )
    return render(request, "intake/invitation_check.html", {"form": form})


def _start(request, found):
    """The questionnaire for this invitation: resumed in this browser, or started prefilled."""
    draft = draft_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if draft is not None and draft.invitation_id == found.pk and draft.data and not draft.case_id:
        return redirect("intake:start")
    try:
        _draft, raw_token = invitation_start_questionnaire(invitation=found)
    except DatabaseError:
        context = {"form": BirthDateForm(), "save_failed": True}
        return render(request, "intake/invitation_check.html", context, status=503)
    return _set_draft_cookie(redirect("intake:step", step="about"), raw_token)


@never_cache
@require_http_methods(["GET", "POST"])
def stop_reminders(request, token: str):
    """The patient's way to stop reminders: a page that asks, then a button that stops them."""
    found = invitation_for_token(token)
    if found is None:
        return _closed(request)
    if request.method == "POST":
        invitation_stop_reminders(invitation=found)
    stopped = found.reminders_stopped_at is not None
    return render(request, "intake/invitation_stop.html", {"stopped": stopped})
