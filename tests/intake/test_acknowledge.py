"""Acknowledging an emergency, and what the queue and case page say about its handling.

Acknowledge in one action from the queue row or the case page; the queue row
and the case page say who acknowledged it and when (or that nobody has), how
often it was escalated, and whether its alert got through; the admin home
page has a red banner while any alert is failing; an early case says which
questions are still unanswered.
"""

import datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from intake.models import AlertDelivery, Case, CaseEvent
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK
from intake.services import case_acknowledge
from intake.templatetags.intake_admin import (
    alert_state_in_words,
    symptom_questions,
    unanswered_questions,
)
from tests.factories import CaseFactory, UserFactory, complete_answers, staff_in
from tests.intake.test_query_counts import queries_for

pytestmark = pytest.mark.django_db

QUEUE_URL = "/admin/intake/redflagcase/"
NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
SADDLE = {"saddle_numbness": "yes"}
FOOT_DROP = {"foot_lift_difficulty": "yes"}


def logged_in(client, role, **kwargs):
    user = staff_in(role, **kwargs)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def desk(client):
    return logged_in(client, FRONT_DESK, username="desk-dee", first_name="Dee", last_name="Desk")


def acknowledge_url(case) -> str:
    return reverse("admin:intake_case_acknowledge", args=[case.pk])


def case_url(case) -> str:
    return reverse("admin:intake_case_change", args=[case.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def acknowledgements(case) -> list[CaseEvent]:
    return list(case.events.filter(kind=CaseEvent.Kind.ACKNOWLEDGED))


def row_of(html: str, case) -> str:
    """The queue row of ``case`` (from its checkbox to the end of the row)."""
    start = html.index(f'name="_selected_action" value="{case.pk}"')
    return html[start : html.index("</tr>", start)]


# Acknowledge from the queue row ---------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_acknowledge_from_the_queue_row_goes_back_to_the_same_page(desk):
    emergency = CaseFactory(changes=SADDLE, submitted_at=NOW - datetime.timedelta(minutes=5))
    urgent = CaseFactory(changes=FOOT_DROP)
    page = QUEUE_URL + "?status=new"

    html = desk.get(page).content.decode()

    row = row_of(html, emergency)
    assert "NOT acknowledged" in row
    assert f'formaction="{acknowledge_url(emergency)}"' in row
    assert 'form="case-acknowledge-form"' in row
    assert "Acknowledge" in row
    urgent_row = row_of(html, urgent)  # urgent cases are not acknowledged
    assert "acknowledged" not in urgent_row.lower()
    assert "formaction" not in urgent_row
    # The buttons' one form, outside the list's own form, with the CSRF token and the page.
    form_start = html.index('<form id="case-acknowledge-form" method="post"')
    form = html[form_start : html.index("</form>", form_start)]
    assert "csrfmiddlewaretoken" in form
    assert f'name="next" value="{page}"' in form
    assert form_start < html.index('id="changelist-form"')

    response = desk.post(acknowledge_url(emergency), {"next": page})

    assert response.status_code == 302
    assert response["Location"] == page
    assert messages_of(response) == [
        f"You acknowledged emergency {emergency.reference}: it will not be escalated again."
    ]
    emergency.refresh_from_db()
    assert emergency.acknowledged_by == desk.user
    assert emergency.acknowledged_at == NOW
    assert emergency.reviewed_at == NOW  # it counts as the first review
    (entry,) = acknowledgements(emergency)
    assert entry.author == desk.user
    row = row_of(desk.get(page).content.decode(), emergency)
    assert "acknowledged by Dee Desk at 2 Mar 2026, 14:00" in row
    assert "NOT acknowledged" not in row
    assert "formaction" not in row
    # Audited as a change to that case.
    audit = AuditEntry.objects.get(path=acknowledge_url(emergency))
    assert (audit.action, audit.object_label) == ("change", emergency.reference)


def test_acknowledge_from_the_case_page(desk):
    emergency = CaseFactory(changes=SADDLE)
    html = desk.get(case_url(emergency)).content.decode()
    assert "Emergency NOT acknowledged." in html
    assert f'action="{acknowledge_url(emergency)}"' in html

    response = desk.post(acknowledge_url(emergency))

    assert response["Location"] == case_url(emergency)
    assert len(acknowledgements(emergency)) == 1
    html = desk.get(case_url(emergency)).content.decode()
    assert "Acknowledged by Dee Desk at " in html
    assert f'action="{acknowledge_url(emergency)}"' not in html
    assert "Emergency acknowledged by desk-dee." in html  # the timeline entry


def test_acknowledging_twice_or_after_a_colleague_changes_nothing(desk):
    emergency = CaseFactory(changes=SADDLE)
    colleague = UserFactory(username="nurse-ana", first_name="Ana", last_name="Reyes")
    case_acknowledge(case=emergency, by=colleague)

    response = desk.post(acknowledge_url(emergency))

    assert messages_of(response)[0].startswith(
        f"{emergency.reference} was already acknowledged by Ana Reyes at "
    )
    assert [entry.author for entry in acknowledgements(emergency)] == [colleague]


def test_a_case_that_is_not_an_emergency_has_nothing_to_acknowledge(desk):
    urgent = CaseFactory(changes=FOOT_DROP)
    response = desk.post(acknowledge_url(urgent))
    assert messages_of(response) == [
        f"{urgent.reference} is not an emergency: there is nothing to acknowledge."
    ]
    assert acknowledgements(urgent) == []


def test_next_must_be_a_page_of_this_site(desk):
    emergency = CaseFactory(changes=SADDLE)
    response = desk.post(acknowledge_url(emergency), {"next": "https://evil.example/"})
    assert response["Location"] == case_url(emergency)


def test_acknowledge_needs_a_post_with_the_csrf_token(desk):
    emergency = CaseFactory(changes=SADDLE)
    assert desk.get(acknowledge_url(emergency)).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(desk.user)
    assert strict.post(acknowledge_url(emergency)).status_code == 403
    assert acknowledgements(emergency) == []


@pytest.mark.parametrize("role", [FRONT_DESK, CLINICIAN])
def test_the_roles_that_change_a_status_may_acknowledge(client, role):
    emergency = CaseFactory(changes=SADDLE)
    logged_in(client, role)
    assert client.post(acknowledge_url(emergency)).status_code == 302
    assert len(acknowledgements(emergency)) == 1


@pytest.mark.parametrize("role", [CLINIC_MANAGER, None])
def test_roles_without_the_status_permission_may_not_acknowledge(client, role):
    emergency = CaseFactory(changes=SADDLE)
    logged_in(client, role)

    assert client.post(acknowledge_url(emergency)).status_code == 403

    assert acknowledgements(emergency) == []
    if role == CLINIC_MANAGER:  # may view the queue and the case, without the button
        assert "formaction" not in client.get(QUEUE_URL).content.decode()
        html = client.get(case_url(emergency)).content.decode()
        assert "NOT acknowledged" in html
        assert f'action="{acknowledge_url(emergency)}"' not in html
        assert 'id="case-acknowledge-form"' not in client.get(QUEUE_URL).content.decode()


def test_anonymous_staff_are_sent_to_log_in(client):
    emergency = CaseFactory(changes=SADDLE)
    response = client.post(acknowledge_url(emergency))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Escalations and the alert's delivery in words ---------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("sent", "alert sent 2 Mar 2026, 13:42"),
        ("failing", "alert NOT delivered, retrying since 2 Mar 2026, 13:42"),
        ("pending", "alert not sent yet (since 2 Mar 2026, 13:42)"),
        ("", None),
    ],
)
def test_the_queue_row_and_case_page_say_what_happened_to_the_alert(desk, state, words):
    emergency = CaseFactory(
        changes=SADDLE,
        alert_state=state,
        alert_state_at=NOW - datetime.timedelta(minutes=18),
        escalation_count=2,
        escalated_at=NOW - datetime.timedelta(minutes=3),
    )

    row = row_of(desk.get(QUEUE_URL).content.decode(), emergency)
    page = desk.get(case_url(emergency)).content.decode()

    assert "escalated 2 times, last at 2 Mar 2026, 13:57" in row
    assert "Escalated 2 times, last at 2 Mar 2026, 13:57." in page
    if words:
        assert words in row
        assert f"{words[0].upper()}{words[1:]}" in page
    else:
        assert "alert" not in row.lower()
    if state == "failing":
        assert "case-alert-failing" in row


@time_machine.travel(NOW, tick=False)
def test_times_are_written_as_on_every_staff_page():
    case = Case(alert_state="sent", alert_state_at=NOW - datetime.timedelta(days=1, hours=2))
    assert alert_state_in_words(case) == "alert sent 1 Mar 2026, 12:00"


def test_the_queue_reads_the_handling_without_a_query_per_row(client):
    """Few and many rows, acknowledged by different people, alerts in every state."""
    client = logged_in(client, CLINICIAN)
    states = ["sent", "failing", "pending", ""]

    def add(count):
        for index in range(count):
            case = CaseFactory(
                changes=SADDLE,
                alert_state=states[index % 4],
                alert_state_at=datetime.datetime.now(datetime.UTC),
                escalation_count=index % 3,
            )
            if index % 2:
                case_acknowledge(case=case, by=UserFactory())

    add(4)
    few = queries_for(client, QUEUE_URL)
    add(40)
    many = queries_for(client, QUEUE_URL)
    assert few == many
    assert client.get(QUEUE_URL).content.decode().count("acknowledged by ") >= 12


# The admin home page's red banner ---------------------------------------------------------


def test_the_home_page_has_a_red_banner_while_an_alert_is_failing(desk):
    emergency = CaseFactory(changes=SADDLE)
    assert "alert-failing-banner" not in desk.get("/admin/").content.decode()

    delivery = AlertDelivery.objects.create(
        case=emergency, channel="email", kind="alert", attempts=1, last_error="SMTPConnectError"
    )
    html = desk.get("/admin/").content.decode()

    assert 'class="alert-failing-banner"' in html
    assert "An emergency alert is NOT being delivered (1 case)." in html
    assert "phone the on-call clinician yourself" in html
    assert (
        "alert-failing-banner"
        in desk.get("/admin/intake/redflagcase/live/summary/").content.decode()
    )

    delivery.state = AlertDelivery.State.SENT
    delivery.save()
    assert "alert-failing-banner" not in desk.get("/admin/").content.decode()


# An early case on the case page -------------------------------------------------------------


def early_answers() -> dict:
    """The answers of a patient who stopped at the warning signs, having said yes to one."""
    asked = {"leg_gives_way", "weak_side", "saddle_numbness", "back_pain"}
    return {
        code: value
        for code, value in complete_answers(
            saddle_numbness="yes", weak_side="neither", weakness_onset=None, weakness_trend=None
        ).items()
        if code in asked
    }


def test_an_unfinished_early_case_says_which_questions_were_not_answered(desk):
    answers = early_answers()
    case = CaseFactory(changes=SADDLE, created_early=True, completed_at=None)
    Case.objects.filter(pk=case.pk).update(answers=answers)
    case.refresh_from_db()

    html = desk.get(case_url(case)).content.decode()

    assert "Created at the first warning sign" in html
    assert "The patient has not finished the questionnaire." in html
    missing = unanswered_questions(case)
    assert missing
    assert all(question.code not in answers for question in missing)
    listed = html[
        html.index('class="case-unanswered"') : html.index("</ul>", html.index("case-unanswered"))
    ]
    for question in missing:
        assert question.label in listed
    for code in answers:
        assert symptom_questions()[code].label not in listed
    # Follow-up questions the patient was never asked are not "unanswered".
    assert "weakness_onset" not in {question.code for question in missing}


def test_a_finished_early_case_says_when_it_was_finished(desk):
    case = CaseFactory(changes=SADDLE, created_early=True, completed_at=NOW)
    html = desk.get(case_url(case)).content.decode()
    assert "Created at the first warning sign" in html
    assert "The patient finished the questionnaire at" in html
    assert 'class="case-unanswered"' not in html
    assert unanswered_questions(case) == []


def test_a_case_sent_whole_has_no_early_section(desk):
    case = CaseFactory(changes=SADDLE)
    assert "Created at the first warning sign" not in desk.get(case_url(case)).content.decode()
