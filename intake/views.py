"""Patient-facing pages: landing, the questionnaire steps, the confirmation.

The patient's unfinished answers live in an ``IntakeDraft`` row that only
their browser can name (a random token in a cookie), so nothing with health
information sits behind a guessable URL, and a closed browser can resume.
"""

import datetime
import functools
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, json_script
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.client_ip import client_ip
from conditions.selectors import conditions_for_answers

from . import triage
from .answer_review import answer_sections
from .forms import CONDITIONAL_QUESTIONS, STEP_BY_SLUG, STEPS, Step, character_count_texts
from .invitations import invitation_case_made, invited_patient
from .kept_pages import kept_page, kept_part
from .models import Case, IntakeDraft
from .paths import step_path
from .selectors import draft_for_token, submitted_case_for_token
from .services import (
    answers_with_age,
    case_add_answers,
    case_submit,
    draft_create,
    draft_delete,
    draft_link_early_case,
    draft_mark_submitted,
    draft_save_step,
    parse_rate,
    rate_limit_hit,
)
from .templatetags.questionnaire import check_answer_rows, is_blank

logger = logging.getLogger(__name__)

DRAFT_COOKIE = "clinic_intake"
#: Per step, the answers that are dates in the patient's life (not before their birth).
LIFETIME_DATES = {"legs": ("symptoms_started",)}
FIRST_STEP = STEPS[0].slug
LAST_STEP = STEPS[-1].slug
# A step's language switcher submits the step with action=language-<code>.
LANGUAGE_ACTION_PREFIX = "language-"
# The page's script posts a step with action=send-now when its answers make an
# emergency (static/js/intake.js).
SEND_NOW_ACTION = "send-now"


def landing(request):
    return render(request, "landing.html")


# A step opened from the check page's "Change" link returns there once saved.
RETURN_TO_CHECK = "check"


def _step_url(step: Step, *, returning: bool = False) -> str:
    """A step's own address (the first step's too: ``/intake/`` itself resumes)."""
    url = step_path(step.slug)
    return f"{url}?return={RETURN_TO_CHECK}" if returning else url


def _conditional_questions(slug: str) -> dict[str, list]:
    """Which questions on a step are asked only for some earlier answers, for the page's script."""
    fields = STEP_BY_SLUG[slug].form_class.base_fields
    return {
        code: [rule.controller, list(rule.asked_for)]
        for code, rule in CONDITIONAL_QUESTIONS.items()
        if code in fields
    }


@functools.cache
def _fixed_scripts(slug: str, language: str | None) -> str:
    """The data a step's script reads that is the same for every patient, written once per process.

    Which questions are asked only for some answers, and the character-count
    texts in the page's language (static/js/intake.js).
    """
    return json_script(_conditional_questions(slug), "conditional-questions") + json_script(
        character_count_texts(), "character-counts"
    )


def _returning_to_check(request) -> bool:
    return request.GET.get("return") == RETURN_TO_CHECK


def _step_answers(draft: IntakeDraft | None) -> dict[str, dict]:
    """The cleaned answers of each step the patient has validly answered.

    A step is validated when it is posted and its cleaned answers are kept
    with the draft, so showing a step validates nothing. A draft saved before
    the draft kept them (``answers`` has no entry for a saved step) has that
    step validated here instead.
    """
    if draft is None:
        return {}
    answered = {}
    for step in STEPS:
        if step.slug in draft.answers:
            if draft.answers[step.slug] is not None:
                answered[step.slug] = draft.answers[step.slug]
        elif step.slug in draft.data:
            answers = _answers_if_valid(
                step, draft.data[step.slug], answered, follow_up=_is_follow_up(draft)
            )
            if answers is not None:
                answered[step.slug] = answers
    return answered


def _is_follow_up(draft: IntakeDraft | None) -> bool:
    """Whether the questionnaire is a follow-up (issue 22): it asks how things changed."""
    return draft is not None and draft.follow_up_of_id is not None


def _answers_if_valid(
    step: Step, data: dict, answered: dict, *, follow_up: bool = False
) -> dict | None:
    """A step's cleaned answers if valid (``answered``: the steps before it), else None."""
    form = step.form_class(data=data, date_of_birth=_date_of_birth(answered), follow_up=follow_up)
    return form.answers() if form.is_valid() else None


def _date_of_birth(answered: dict) -> datetime.date | None:
    """The patient's date of birth from the first step's valid answers, if given yet."""
    born = (answered.get(FIRST_STEP) or {}).get("date_of_birth")
    return datetime.date.fromisoformat(born) if born else None


def _within_lifetime(answered: dict) -> dict:
    """``answered`` without steps whose dates come before the patient's date of birth.

    Each step checks its dates against the date of birth when it is posted,
    but the patient may go back and change the date of birth afterwards: the
    step then counts as unfinished, so the questionnaire cannot be sent until
    it is sent again (and its page says what is wrong). Only for finding the
    unfinished step: triage still reads every answer given, so a warning sign
    on that step is never overlooked.
    """
    born = _date_of_birth(answered)
    if born is None:
        return answered
    kept = {}
    for slug, answers in answered.items():
        dates = (answers.get(code) for code in LIFETIME_DATES.get(slug, ()))
        if any(day and datetime.date.fromisoformat(day) < born for day in dates):
            continue
        kept[slug] = answers
    return kept


def _validated_answers(draft: IntakeDraft, checked_now: dict[str, dict]) -> dict[str, dict]:
    """Every saved step's answers as valid today, for the submission itself.

    Some answers are only valid relative to today (an appointment date, when
    the symptoms started). Answers all checked earlier today stand; otherwise
    every step is validated again. ``checked_now`` holds the steps already
    validated in this request.
    """
    if draft.answers_checked_on == timezone.localdate():
        return {**_step_answers(draft), **checked_now}
    answered = {}
    for step in STEPS:
        if step.slug in checked_now:
            answered[step.slug] = checked_now[step.slug]
        elif step.slug in draft.data:
            answers = _answers_if_valid(
                step, draft.data[step.slug], answered, follow_up=_is_follow_up(draft)
            )
            if answers is not None:
                answered[step.slug] = answers
    return answered


def _first_unfinished(answered: dict, before: Step | None) -> Step | None:
    """The first step before ``before`` that is not yet validly answered."""
    for step in STEPS:
        if step is before:
            return None
        if step.slug not in answered:
            return step
    return None


def _collected_answers(answered: dict) -> tuple[dict, dict]:
    """(about-you details, symptom answers) from every validly answered step."""
    details: dict = {}
    answers: dict = {}
    for slug, step_answers in answered.items():
        (details if slug == FIRST_STEP else answers).update(step_answers)
    return details, answers


def _answers_so_far(answered: dict) -> dict:
    """The symptom answers given so far, with ``age`` as triage reads it."""
    details, answers = _collected_answers(answered)
    return answers_with_age(answers=answers, date_of_birth=details.get("date_of_birth"))


def _set_draft_cookie(response, raw_token: str):
    response.set_cookie(
        DRAFT_COOKIE,
        raw_token,
        max_age=settings.CLINIC_DRAFT_HOURS * 3600,
        path="/intake/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _early_case(draft: IntakeDraft | None) -> Case | None:
    """The case already sent for this unfinished questionnaire, if any."""
    if draft is None or draft.case_id is None:
        return None
    return Case.objects.only("reference", "tier").filter(pk=draft.case_id).first()


def _is_finished(draft: IntakeDraft) -> bool:
    """Sent in full, or stopped early by the patient: the draft has given up its answers."""
    return draft.case_id is not None and not draft.data


def _render_step(
    request,
    step: Step,
    form,
    draft,
    *,
    answered: dict | None = None,
    status=200,
    save_failed=False,
    rate_limited=False,
):
    index = STEPS.index(step)
    if answered is None:
        answered = _step_answers(draft)
    answers = _answers_so_far(answered)
    early_case = _early_case(draft)
    returning = _returning_to_check(request)
    show_emergency = triage.assess(answers).is_emergency
    # Only when /intake/ brought a returning patient back to where they left off.
    resumed = (
        request.method == "GET"
        and request.GET.get("resumed") == "1"
        and draft is not None
        and bool(draft.data)
    )
    follow_up = _is_follow_up(draft)
    # What answers on this page would make it an emergency, for the script
    # that warns the patient at once (static/js/intake.js).
    conditions_script = json_script(
        triage.emergency_conditions_for_step(answers, frozenset(step.form_class.base_fields)),
        "emergency-conditions",
    )
    context = {
        "early_case": early_case,
        "step": step,
        "form": form,
        # As text: a number in a template is formatted for the language on every page.
        "step_number": str(index + 1),
        "step_count": str(len(STEPS)),
        "steps": STEPS,
        "previous_url": (
            reverse("intake:check")
            if returning
            else (_step_url(STEPS[index - 1]) if index else None)
        ),
        "is_last": step.slug == LAST_STEP,
        "returning": returning,
        "show_emergency": show_emergency,
        "emergency_conditions_script": conditions_script,
        "fixed_scripts": _fixed_scripts(step.slug, get_language()),
        "resumed": resumed,
        "save_failed": save_failed,
        "rate_limited": rate_limited,
        "follow_up": follow_up,
    }
    holds_nothing_of_the_patient = (
        status == 200
        and is_blank(form)
        and early_case is None
        and not (show_emergency or resumed or save_failed or rate_limited)
    )
    if holds_nothing_of_the_patient:
        return kept_page(
            request,
            ("step", step.slug, get_language(), follow_up, returning),
            lambda extra: render_to_string(
                "intake/step.html", {**context, **extra}, request=request
            ),
            {"emergency_conditions_script": conditions_script},
        )
    return TemplateResponse(request, "intake/step.html", context, status=status)


# Every page of a patient's questionnaire carries their answers (a resumed
# step shows their name, date of birth and phone; the confirmation their case
# reference), often on a shared clinic tablet: never_cache tells browsers and
# proxies to keep no copy (Cache-Control: no-store), so Back after "Start
# again" or the next patient cannot bring them up from a cache.


@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire_step(request, step: str = FIRST_STEP):
    step_def = STEP_BY_SLUG.get(step)
    if step_def is None:
        raise Http404
    try:
        return _questionnaire_step(request, step_def)
    except DatabaseError:
        logger.exception("Database unavailable during questionnaire step %s", step)
        if request.method != "POST":
            raise
        # Keep the patient's answers on the page; nothing was stored.
        form = step_def.form_class(data=request.POST)
        form.is_valid()
        return _render_step(request, step_def, form, None, status=503, save_failed=True)


def _over_rate_limit(request) -> bool:
    """Whether this client has started more questionnaires than CLINIC_INTAKE_RATE allows.

    Only a post that starts a questionnaire (a new draft) is counted: every
    later post needs that draft's secret token, and a draft sends at most one
    case however often it is posted (its submission token is unique), so
    counting new drafts bounds the cases anyone can make. It also spares each
    later step a statement (docs/performance.md, section 6).
    """
    if not settings.CLINIC_RATELIMIT:
        return False
    limit, period = parse_rate(settings.CLINIC_INTAKE_RATE)
    try:
        hits = rate_limit_hit(key=f"intake:{client_ip(request)}", period_seconds=period)
    except DatabaseError:
        # The counters live in the database; if it is down, the save below
        # fails too and the patient gets the "could not save" page instead.
        return False
    return hits > limit


def _questionnaire_step(request, step: Step):
    draft = draft_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if draft is not None and _is_finished(draft):
        draft = None  # a finished questionnaire; anything else starts a new one
    if request.method == "POST" and draft is None and _over_rate_limit(request):
        # Keep what was typed on the page and ask the patient to wait a moment.
        form = step.form_class(data=request.POST)
        form.is_valid()
        return _render_step(request, step, form, None, status=429, rate_limited=True)

    if request.method == "GET":
        answered = _step_answers(draft)
        if draft is not None and draft.data and request.resolver_match.url_name == "start":
            return _resume(answered)
        blocker = _first_unfinished(_within_lifetime(answered), step)
        if blocker is not None:
            return redirect(_step_url(blocker))
        stored = draft.data.get(step.slug) if draft else None
        follow_up = _is_follow_up(draft)
        form = (
            step.form_class(initial=stored, follow_up=follow_up)
            if stored
            else step.form_class(follow_up=follow_up)
        )
        return _render_step(request, step, form, draft, answered=answered)

    data = {name: request.POST.get(name, "") for name in step.form_class.data_keys()}
    if any("\x00" in value for value in data.values()):
        # No keyboard types a NUL; PostgreSQL cannot store one. A malformed request.
        return bad_request(request)
    language = _requested_language(request)
    returning = _returning_to_check(request)
    if language and draft is None and not any(data.values()):
        # Nothing typed and nothing saved yet: change the language, start no draft.
        return _set_language_cookie(
            HttpResponseRedirect(_step_url(step, returning=returning)), language
        )
    # Validated whatever the button: Back and the language switcher keep a valid step valid.
    # Dates are checked against the date of birth given on the first step.
    form = step.form_class(
        data=data,
        date_of_birth=_date_of_birth(_step_answers(draft)),
        follow_up=_is_follow_up(draft),
    )
    valid = form.is_valid()
    answers = form.answers() if valid else None
    index = STEPS.index(step)
    going_back = request.POST.get("action") == "back" and (index > 0 or returning)
    # The page's script sends the step in the background the moment its
    # answers make an emergency, so a patient who then leaves is not lost.
    sending_now = request.POST.get("action") == SEND_NOW_ACTION
    raw_token = None
    if draft is None:
        draft, raw_token = draft_create(step=step.slug, data=data, answers=answers)
    else:
        draft_save_step(draft=draft, step=step.slug, data=data, answers=answers)
    case = None
    if not language:
        # What is valid on an unfinished step counts too: a "yes" to a warning
        # sign must not wait for the rest of the page.
        partial = None if valid or step.slug == FIRST_STEP else form.answers()
        case = _send_if_emergency(draft, step=step, partial=partial)

    if sending_now:
        response = JsonResponse(
            {"sent": case is not None, "reference": case.reference if case else None}
        )
    elif language:
        # Like Back, what was typed is saved unvalidated; the same step comes back
        # in the chosen language with those answers filled in.
        response = _set_language_cookie(
            HttpResponseRedirect(_step_url(step, returning=returning)), language
        )
    elif going_back and returning:
        response = HttpResponseRedirect(reverse("intake:check"))
    elif going_back:
        response = HttpResponseRedirect(_step_url(STEPS[index - 1]))
    elif not valid:
        response = _render_step(request, step, form, draft)
    elif returning or step.slug == LAST_STEP:
        # The check page sends the patient on to any step still unanswered.
        response = HttpResponseRedirect(reverse("intake:check"))
    else:
        response = HttpResponseRedirect(_step_url(STEPS[index + 1]))
    if raw_token:
        _set_draft_cookie(response, raw_token)
    return response


def _send_if_emergency(draft: IntakeDraft, *, step: Step, partial: dict | None) -> Case | None:
    """Send the answers so far the moment they make an emergency (SPEC "Patient-facing safety").

    A patient told to go to an emergency department now may leave at once:
    the case is made and the clinic alerted in this request, from the details
    and answers given so far (``partial``: the valid answers of this step when
    the rest of it is not yet answered). Once it exists, every later save adds
    to the same case. One case per draft, whatever is posted twice: the case is
    keyed by the draft's submission token (unique in the database). Returns
    the case, if there is one.
    """
    answered = _step_answers(draft)
    if FIRST_STEP not in answered:
        return None
    if partial:
        answered = {**answered, step.slug: {**answered.get(step.slug, {}), **partial}}
    details, _symptoms = _collected_answers(answered)
    answers = _answers_so_far(answered)
    if draft.case_id is not None:
        return case_add_answers(case=Case(pk=draft.case_id), answers=answers)
    if not triage.assess(answers).is_emergency:
        return None
    case = case_submit(
        details=details,
        answers=answers,
        submission_token=draft.submission_token,
        language=get_language() or "en",
        early=True,
        patient=invited_patient(draft),
        follow_up_of=_followed_up_case(draft),
    )
    draft_link_early_case(draft=draft, case=case)
    invitation_case_made(draft=draft, case=case, finished=False)
    return case


def _followed_up_case(draft: IntakeDraft) -> Case | None:
    """The case a follow-up questionnaire follows up, as ``case_submit`` links it; one query."""
    if draft.follow_up_of_id is None:
        return None
    return Case.objects.only("pk", "baseline_id").filter(pk=draft.follow_up_of_id).first()


def _requested_language(request) -> str | None:
    """The language a step's switcher button asks for (``action=language-es``), if any."""
    action = request.POST.get("action", "")
    if not action.startswith(LANGUAGE_ACTION_PREFIX):
        return None
    code = action.removeprefix(LANGUAGE_ACTION_PREFIX)
    return code if code in dict(settings.LANGUAGES) else None


def _set_language_cookie(response, language: str):
    """Remember the patient's language the way Django's ``set_language`` view does."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def _resume(answered: dict):
    """Back to where a returning patient left off: the first unfinished step, or the check page."""
    blocker = _first_unfinished(_within_lifetime(answered), before=None)
    url = _step_url(blocker) if blocker is not None else reverse("intake:check")
    return HttpResponseRedirect(f"{url}?resumed=1")


@never_cache
@require_http_methods(["GET", "POST"])
def check_answers(request):
    """Every answer by step, each with a "Change" link, and the button that sends them.

    Nothing is sent before the patient has seen this page (an emergency is
    sent at once by the step that shows it, see ``_send_if_emergency``).
    """
    draft = draft_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if draft is None:
        return redirect("intake:start")
    if _is_finished(draft):
        # Sent already: a second press, a refresh or a retry shows the same case.
        return redirect("intake:done")
    try:
        answered = _validated_answers(draft, checked_now={})
        blocker = _first_unfinished(_within_lifetime(answered), before=None)
        if blocker is not None:
            return redirect(_step_url(blocker))
        if request.method == "POST":
            return _send(draft, answered)
    except DatabaseError:
        logger.exception("Database unavailable on the check answers page")
        if request.method != "POST":
            raise
        return _render_check(request, draft, _step_answers(draft), status=503, save_failed=True)
    return _render_check(request, draft, answered)


def _render_check(request, draft, answered, *, status=200, save_failed=False):
    early_case = _early_case(draft)
    resumed = request.GET.get("resumed") == "1"
    sections = answer_sections(draft.data, answered)
    # The answers are the patient's; the rest depends only on the language.
    parts = {f"rows-{section.slug}": check_answer_rows(section) for section in sections}
    context = {
        "early_case": early_case,
        "resumed": resumed,
        "save_failed": save_failed,
    }

    def page_with(rows: dict) -> dict:
        listed = [
            {"title": section.title, "rows": rows[f"rows-{section.slug}"]} for section in sections
        ]
        return {**context, "sections": listed}

    if status == 200 and early_case is None and not (resumed or save_failed):
        return kept_page(
            request,
            ("check", get_language()),
            lambda extra: render_to_string(
                "intake/check.html", {**page_with(extra), **extra}, request=request
            ),
            parts,
        )
    return TemplateResponse(request, "intake/check.html", page_with(parts), status=status)


def _send(draft: IntakeDraft, answered: dict):
    """Send every step's answers as one case, exactly once (keyed by the draft's token)."""
    details, answers = _collected_answers(answered)
    if draft.case_id is not None:
        # Sent early at the first warning sign: sending finishes that case.
        case = case_add_answers(
            case=Case(pk=draft.case_id), answers=_answers_so_far(answered), complete=True
        )
    else:
        case = case_submit(
            details=details,
            answers=answers,
            submission_token=draft.submission_token,
            language=get_language() or "en",
            patient=invited_patient(draft),
            follow_up_of=_followed_up_case(draft),
        )
    draft_mark_submitted(draft=draft, case=case)
    invitation_case_made(draft=draft, case=case, finished=True)
    return HttpResponseRedirect(reverse("intake:done"))


def _topics_html(topics: list) -> str:
    """The topics after sending, written once per process for each list as shown.

    Kept by everything the list shows of each page (its address, title,
    description and language) and the language of the page, so a page
    changed in the library gives a new list; nothing of the patient.
    """
    if not topics:
        return ""
    key = (
        "topics",
        get_language(),
        tuple(
            (page.slug, page.display_title, page.display_description, page.content_language)
            for page in topics
        ),
    )
    return kept_part(
        key,
        lambda: render_to_string("intake/_done_topics.html", {"related_conditions": topics}),
    )


@never_cache
def confirmation(request):
    """What happens next, shown only to the browser that sent the answers."""
    case = submitted_case_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if case is None:
        return redirect("intake:start")
    topics = conditions_for_answers(case.answers)
    # The parts of the page that are this patient's; the rest depends only on
    # the language, the tier and whether the answers were sent before the end.
    parts = {
        "reference": conditional_escape(case.reference),
        "topics_html": _topics_html(topics),
    }
    context = {
        "tier": case.tier,
        "is_emergency": case.tier == triage.EMERGENCY,
        "sent_before_finishing": case.created_early and case.completed_at is None,
    }
    return kept_page(
        request,
        ("done", get_language(), case.tier, context["sent_before_finishing"]),
        lambda extra: render_to_string(
            "intake/confirmation.html", {**context, **extra}, request=request
        ),
        parts,
    )


@never_cache
@require_POST
def stop_early(request):
    """The patient whose answers were sent early stops here (to go to hospital)."""
    draft = draft_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if draft is None or draft.case_id is None:
        return redirect("intake:start")
    if draft.data:
        draft_mark_submitted(draft=draft, case=Case(pk=draft.case_id))
        invitation_case_made(draft=draft, case=Case(pk=draft.case_id), finished=True)
    return redirect("intake:done")


@never_cache
@require_http_methods(["GET", "POST"])
def start_again(request):
    """Forget this browser's questionnaire (finished or not) and start a fresh one.

    Shown first (GET), it asks the patient to confirm: one tap must not wipe
    a long questionnaire. Posted, it deletes the unfinished answers from the
    database too; a case already sent stays with the clinic.
    """
    draft = draft_for_token(request.COOKIES.get(DRAFT_COOKIE))
    if request.method == "GET":
        if draft is None or _is_finished(draft):
            return redirect("intake:start")
        return render(request, "intake/start_again.html", {"early_case": _early_case(draft)})
    if draft is not None:
        draft_delete(draft=draft)
    response = redirect("intake:start")
    response.delete_cookie(DRAFT_COOKIE, path="/intake/", samesite="Lax")
    return response


# Error pages that never need the database and always give the clinic's phone.

ERROR_PAGES = {
    400: (
        _("Sorry, we could not read that"),
        _(
            "Something in the page you sent did not look right, so nothing was saved from it. "
            "Please go back and try again."
        ),
    ),
    403: (
        _("This page has expired"),
        _(
            "For your safety, forms stop working after a while or when cookies are blocked. "
            "Please go back, reload the page and try again."
        ),
    ),
    404: (
        _("We cannot find that page"),
        _("The page may have moved. You can start from our home page."),
    ),
    500: (
        _("Sorry, something went wrong"),
        _(
            "The problem is on our side. Your earlier answers are kept on this device. "
            "Please try again in a few minutes."
        ),
    ),
    503: (
        _("Sorry, the system is busy or down for a moment"),
        _(
            "Nothing has been lost from the answers you already saved. "
            "Please try again in a few minutes."
        ),
    ),
}


def _error_page(request, status: int):
    heading, message = ERROR_PAGES[status]
    context = {
        "heading": heading,
        "message": message,
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_EMERGENCY_NUMBER": settings.CLINIC_EMERGENCY_NUMBER,
    }
    return render(request, "error.html", context, status=status)


def bad_request(request, exception=None):
    return _error_page(request, 400)


def csrf_failure(request, reason=""):
    """A calm page instead of Django's technical one when a form's token has expired."""
    return _error_page(request, 403)


def page_not_found(request, exception=None):
    return _error_page(request, 404)


def server_error(request):
    return _error_page(request, 500)


def service_unavailable(request):
    return _error_page(request, 503)
