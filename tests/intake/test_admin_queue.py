"""The red-flag queue at /admin/intake/redflagcase/ and the admin index summary."""

import datetime
import random
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Case, CaseEvent
from intake.services import case_add_note, case_change_status
from intake.templatetags.intake_admin import (
    language_in_words,
    staff_date,
    staff_datetime,
    symptoms_began,
    waited_for,
)
from tests.factories import CaseFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = "/admin/intake/redflagcase/"
NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)

SADDLE_AND_BLADDER = {"saddle_numbness": "yes", "bladder_retention": "yes"}
SADDLE_ONLY = {"saddle_numbness": "yes"}
BLADDER_ONLY = {"bladder_incontinence": "yes"}
BOWEL = {"bowel_incontinence": "yes"}
BOTH_LEGS_FAST = {"weak_side": "both", "weakness_onset": "hours", "weakness_trend": "same"}
FOOT_DROP = {"foot_lift_difficulty": "yes"}
NOT_SURE = {"bladder_stream": "unsure"}
SOON = {"leg_gives_way": "yes"}


def minutes_ago(minutes: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def queue_references(response) -> list[str]:
    return [case.reference for case in response.context["cl"].result_list]


def test_queue_url_is_the_spec_url():
    assert reverse("admin:intake_redflagcase_changelist") == QUEUE_URL


@time_machine.travel(NOW, tick=False)
def test_queue_order_is_danger_first_then_longest_waiting(superuser_client):
    # (changes, minutes waited), listed in the order the queue must show them.
    expected = [
        (SADDLE_AND_BLADDER, 50),
        (SADDLE_AND_BLADDER, 3),
        (SADDLE_ONLY, 400),
        (BLADDER_ONLY, 90),
        (SADDLE_ONLY, 1),
        (BOWEL, 2000),
        (BOTH_LEGS_FAST, 30),
        (BOWEL, 29),
        (NOT_SURE, 5000),
        (FOOT_DROP, 4000),
        (FOOT_DROP, 2),
    ]
    rows = list(enumerate(expected))
    random.Random(7).shuffle(rows)  # creation order must not matter
    created = {}
    for position, (changes, waited) in rows:
        created[position] = CaseFactory(changes=changes, submitted_at=minutes_ago(waited))

    response = superuser_client.get(QUEUE_URL)

    assert response.status_code == 200
    order = [created[position].reference for position in range(len(expected))]
    assert queue_references(response) == order
    html = response.content.decode()
    assert [html.index(reference) for reference in order] == sorted(
        html.index(reference) for reference in order
    )


@time_machine.travel(NOW, tick=False)
def test_column_sorting_cannot_change_the_queue_order(superuser_client):
    older = CaseFactory(changes=FOOT_DROP, submitted_at=minutes_ago(60))
    newer = CaseFactory(changes=SADDLE_ONLY, submitted_at=minutes_ago(1))

    for query in ["?o=7", "?o=-7", "?o=-1.2", "?o=4", "?o=nonsense"]:
        response = superuser_client.get(QUEUE_URL + query)
        assert queue_references(response) == [newer.reference, older.reference], query

    html = superuser_client.get(QUEUE_URL).content.decode()
    assert 'class="sortable' not in html


def test_closed_handled_and_non_red_flag_cases_never_appear(superuser_client):
    shown = [CaseFactory(changes=SADDLE_ONLY, status=status) for status in Case.OPEN_STATUSES] + [
        CaseFactory(changes=FOOT_DROP, status=status) for status in Case.OPEN_STATUSES
    ]
    hidden = [
        CaseFactory(changes=SADDLE_AND_BLADDER, status=status)
        for status in ("scheduled", "sent_to_emergency", "closed")
    ] + [
        CaseFactory(changes=FOOT_DROP, status="closed"),
        CaseFactory(changes=SOON),
        CaseFactory(),
    ]

    response = superuser_client.get(QUEUE_URL)

    assert sorted(queue_references(response)) == sorted(case.reference for case in shown)
    html = response.content.decode()
    assert not any(case.reference in html for case in hidden)


@time_machine.travel(NOW, tick=False)
def test_queue_row_shows_the_case_in_words(superuser_client):
    nurse = UserFactory(username="nurse-ana", first_name="Ana", last_name="Reyes")
    patient = PatientFactory(
        first_name="Ópal", last_name="Example", date_of_birth=datetime.date(1950, 6, 1)
    )
    case = CaseFactory(
        patient=patient,
        changes={"bladder_retention": "yes", "saddle_numbness": "yes", "fever": "yes"},
        submitted_at=NOW - datetime.timedelta(hours=2, minutes=15),
        symptoms_started=datetime.date(2026, 2, 27),
        assigned_to=nurse,
    )

    html = superuser_client.get(QUEUE_URL).content.decode()

    assert "Ópal Example" in html
    assert ">75<" in html  # age on 2 March 2026
    assert case.patient.phone in html
    assert "2 h 15 min" in html
    assert "3 days ago" in html
    assert "Ana Reyes" in html
    assert ">New<" in html
    assert "Emergency" in html
    saddle = html.index("Numbness between the legs (saddle)")
    bladder = html.index("Bladder problems")
    infection = html.index("Back pain with infection signs")
    assert saddle < bladder < infection
    # The row opens the case page, which keeps working after the case leaves the queue.
    assert reverse("admin:intake_case_change", args=[case.pk]) in html


@time_machine.travel(NOW, tick=False)
def test_unreviewed_cases_are_overdue_after_their_tiers_time(superuser_client, settings):
    """Emergencies after 15 minutes unreviewed, urgent cases after 4 hours (SPEC tier table)."""
    settings.CLINIC_EMERGENCY_OVERDUE_MINUTES = 15
    settings.CLINIC_URGENT_OVERDUE_HOURS = 4
    overdue = CaseFactory(changes=BOWEL, submitted_at=minutes_ago(16))
    on_time = CaseFactory(changes=BOWEL, submitted_at=minutes_ago(14))
    reviewed = CaseFactory(
        changes=BOWEL, submitted_at=minutes_ago(60), status="in_review", reviewed_at=minutes_ago(50)
    )
    urgent = CaseFactory(changes=FOOT_DROP, submitted_at=minutes_ago(4 * 60 - 1))
    urgent_overdue = CaseFactory(changes=FOOT_DROP, submitted_at=minutes_ago(4 * 60 + 1))

    response = superuser_client.get(QUEUE_URL)
    html = response.content.decode()

    rows = {
        reference: row
        for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S)
        for reference in [
            overdue.reference,
            on_time.reference,
            reviewed.reference,
            urgent.reference,
            urgent_overdue.reference,
        ]
        if reference in row
    }
    assert "OVERDUE" in rows[overdue.reference]
    assert "OVERDUE" not in rows[on_time.reference]
    assert "OVERDUE" not in rows[reviewed.reference]
    assert "OVERDUE" not in rows[urgent.reference]
    assert "Urgent" in rows[urgent.reference]
    assert "OVERDUE" in rows[urgent_overdue.reference]
    # The admin home page and the queue's summary count both kinds.
    home = superuser_client.get("/admin/").content.decode()
    assert "2 OVERDUE" not in home  # one emergency, one urgent: counted apart
    assert "(not reviewed within 15 minutes)" in home
    assert "(not reviewed within 4 hours)" in home


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?flag=bladder", ["saddle_bladder", "bladder"]),
        ("?flag=saddle_numbness", ["saddle_bladder"]),
        ("?flag=foot_drop", ["foot_drop_mine"]),
        ("?status=in_review", ["bladder"]),
        ("?tier=urgent", ["foot_drop_mine"]),
        ("?tier=emergency", ["saddle_bladder", "bladder"]),
        ("?assigned=me", ["foot_drop_mine"]),
        ("?assigned=nobody", ["saddle_bladder"]),
        ("?assigned=others", ["bladder"]),
    ],
)
def test_queue_filters(superuser_client, superuser, query, expected):
    cases = {
        "saddle_bladder": CaseFactory(changes=SADDLE_AND_BLADDER),
        "bladder": CaseFactory(changes=BLADDER_ONLY, status="in_review", assigned_to=UserFactory()),
        "foot_drop_mine": CaseFactory(changes=FOOT_DROP, assigned_to=superuser),
    }
    response = superuser_client.get(QUEUE_URL + query)
    assert queue_references(response) == [cases[name].reference for name in expected]


def test_queue_search_by_reference_name_phone_and_date_of_birth(superuser_client):
    patient = PatientFactory(
        last_name="Okonkwo", phone="555-0199", date_of_birth=datetime.date(1944, 2, 29)
    )
    wanted = CaseFactory(patient=patient, changes=SADDLE_ONLY)
    CaseFactory(changes=SADDLE_ONLY)
    for term in [wanted.reference, "okonkwo", "555 0199", "1944-02-29"]:
        response = superuser_client.get(QUEUE_URL, {"q": term})
        assert queue_references(response) == [wanted.reference], term


# Actions from the queue ----------------------------------------------------------


def post_action(client, action, cases):
    return client.post(
        QUEUE_URL, {"action": action, "_selected_action": [case.pk for case in cases]}
    )


def test_assign_to_me_action(superuser_client, superuser):
    cases = [CaseFactory(changes=SADDLE_ONLY), CaseFactory(changes=FOOT_DROP)]

    response = post_action(superuser_client, "assign_to_me", cases)

    assert response.status_code == 302
    for case in cases:
        case.refresh_from_db()
        assert case.assigned_to == superuser
        assert case.events.get().kind == CaseEvent.Kind.ASSIGNMENT


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_in_review", "in_review"),
        ("mark_contacted", "contacted"),
        ("mark_sent_to_emergency", "sent_to_emergency"),
    ],
)
def test_status_actions_move_every_selected_case(superuser_client, action, status):
    cases = CaseFactory.create_batch(3, changes=BOWEL)

    response = post_action(superuser_client, action, cases)

    assert response.status_code == 302
    for case in cases:
        case.refresh_from_db()
        assert case.status == status
        assert case.events.get().after == {"status": status}


def test_refused_moves_are_reported_per_case_and_the_rest_go_ahead(superuser_client):
    new_case = CaseFactory(changes=SADDLE_ONLY)
    reviewed_case = CaseFactory(changes=SADDLE_ONLY, status="in_review")

    response = post_action(superuser_client, "mark_closed", [new_case, reviewed_case])

    assert response.status_code == 302
    new_case.refresh_from_db()
    reviewed_case.refresh_from_db()
    assert new_case.status == "new"
    assert not new_case.events.exists()
    assert reviewed_case.status == "closed"
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(new_case.reference in text and "not changed" in text for text in texts)
    assert any(reviewed_case.reference in text and "Closed" in text for text in texts)


def test_queue_offers_no_delete(superuser_client):
    response = superuser_client.get(QUEUE_URL)
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert {"assign_to_me", "mark_in_review", "mark_sent_to_emergency", "mark_closed"} <= set(
        actions
    )


def test_queue_change_url_leads_to_the_case_page(superuser_client):
    case = CaseFactory(changes=SADDLE_ONLY)
    response = superuser_client.get(reverse("admin:intake_redflagcase_change", args=[case.pk]))
    assert response.status_code == 302
    assert response.url == reverse("admin:intake_case_change", args=[case.pk])


# Query counts ---------------------------------------------------------------------


def make_cases(count: int) -> None:
    groups = [SADDLE_AND_BLADDER, SADDLE_ONLY, BOWEL, FOOT_DROP, NOT_SURE]
    staff = UserFactory()
    for index in range(count):
        CaseFactory(
            changes=groups[index % len(groups)],
            submitted_at=minutes_ago(index),
            assigned_to=staff if index % 2 else None,
            status="in_review" if index % 3 == 0 else "new",
        )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url", [QUEUE_URL, QUEUE_URL + "?flag=bladder&assigned=nobody", "/admin/intake/case/"]
)
def test_list_pages_query_count_does_not_grow_with_the_number_of_cases(superuser_client, url):
    make_cases(5)
    few = count_queries(superuser_client, url)
    make_cases(495)
    many = count_queries(superuser_client, url)
    assert few == many
    assert many <= 12


# The admin index ------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_admin_index_counts_open_and_overdue_emergencies(superuser_client):
    CaseFactory(changes=SADDLE_ONLY, submitted_at=minutes_ago(40))
    CaseFactory(changes=BOWEL, submitted_at=minutes_ago(40))
    CaseFactory(changes=BOWEL, submitted_at=minutes_ago(3))
    CaseFactory(changes=BOWEL, status="closed", submitted_at=minutes_ago(400))
    CaseFactory(changes=FOOT_DROP)

    html = superuser_client.get("/admin/").content.decode()

    assert "3 open emergencies" in html
    assert "2 OVERDUE" in html
    assert "1 open urgent case" in html
    assert QUEUE_URL in html


def test_admin_index_with_nothing_open(superuser_client):
    html = superuser_client.get("/admin/").content.decode()
    assert "0 open emergencies" in html
    assert "OVERDUE" not in html


def test_admin_index_summary_is_hidden_from_staff_who_cannot_see_cases(client):
    client.force_login(UserFactory())
    CaseFactory(changes=BOWEL)
    html = client.get("/admin/").content.decode()
    assert "open emergenc" not in html


# Words for time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited", "words"),
    [
        (datetime.timedelta(seconds=30), "under 1 min"),
        (datetime.timedelta(minutes=7), "7 min"),
        (datetime.timedelta(hours=2, minutes=15), "2 h 15 min"),
        (datetime.timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
    ],
)
def test_waited_for_in_words(waited, words):
    assert waited_for(NOW - waited, NOW) == words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (None, "not given"),
        (-2, "date is in the future"),
        (0, "today"),
        (1, "yesterday"),
        (3, "3 days ago"),
        (13, "13 days ago"),
        (14, "2 weeks ago"),
        (70, "2 months ago"),
        (800, "2 years ago"),
    ],
)
def test_symptoms_began_in_words(days, words):
    today = datetime.date(2026, 3, 2)
    day = None if days is None else today - datetime.timedelta(days=days)
    assert symptoms_began(day, today) == words


# The row's answers to the first phone call (issue 20) ------------------------------


def queue_row(html: str, reference: str) -> str:
    """The queue table's row for one case."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if reference in row)


@time_machine.travel(NOW, tick=False)
def test_queue_row_shows_language_submitted_time_last_contact_and_appointment(
    superuser_client, superuser, settings
):
    settings.TIME_ZONE = "America/Chicago"  # the clinic's clock: UTC-6 in March
    spanish = CaseFactory(
        changes=SADDLE_ONLY,
        language="es",
        submitted_at=NOW - datetime.timedelta(hours=2, minutes=15),
        appointment_date=datetime.date(2026, 3, 9),
    )
    english = CaseFactory(changes=FOOT_DROP, submitted_at=minutes_ago(30))
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        case_change_status(case=spanish, to_status=Case.Status.CONTACTED, by=superuser)

    html = superuser_client.get(QUEUE_URL).content.decode()

    row = queue_row(html, spanish.reference)
    # Name, tap-to-call phone and language together, the language in words.
    assert f'href="tel:{spanish.patient.phone.replace("-", "")}"' in row
    assert '<span class="case-language"><strong class="case-language-other">Spanish</strong>' in row
    assert ">es<" not in row
    assert ">2 Mar 2026, 05:45</time>" in row  # submitted, clinic time (11:45 UTC)
    assert "waited 2 h 15 min" in row
    assert "contacted 2 Mar 2026, 07:00" in row  # moved to "contacted" at 13:00 UTC
    assert "visit 9 Mar 2026" in row
    other = queue_row(html, english.reference)
    assert '<span class="case-language">English</span>' in other
    assert "case-language-other" not in other
    assert ">2 Mar 2026, 07:30</time>" in other
    assert "not contacted yet" in other
    assert "no visit booked" in other
    # The column headings say what each one is.
    for heading in ("Submitted", "Last contact · visit"):
        assert heading in html


@time_machine.travel(NOW, tick=False)
def test_last_contact_attempt_is_the_latest_move_to_contacted(superuser_client, superuser):
    case = CaseFactory(changes=BOWEL, submitted_at=minutes_ago(300))
    moves = [
        (240, Case.Status.CONTACTED),
        (200, Case.Status.IN_REVIEW),
        (120, Case.Status.CONTACTED),
        (60, Case.Status.IN_REVIEW),
    ]
    for minutes, status in moves:
        with time_machine.travel(NOW - datetime.timedelta(minutes=minutes), tick=False):
            case = case_change_status(case=case, to_status=status, by=superuser)
    case_add_note(case=case, text="Rang again, no answer.", by=superuser)  # not a status move

    response = superuser_client.get(QUEUE_URL)

    (listed,) = response.context["cl"].result_list
    assert listed.last_contact_at == NOW - datetime.timedelta(minutes=120)
    row = queue_row(response.content.decode(), case.reference)
    assert "contacted 2 Mar 2026, 12:00" in row


@time_machine.travel(NOW, tick=False)
def test_the_new_columns_leave_the_most_dangerous_first(superuser_client, superuser):
    urgent_contacted = CaseFactory(changes=FOOT_DROP, submitted_at=minutes_ago(500))
    case_change_status(case=urgent_contacted, to_status=Case.Status.CONTACTED, by=superuser)
    saddle_bladder = CaseFactory(
        changes=SADDLE_AND_BLADDER, submitted_at=minutes_ago(2), language="es"
    )
    bowel = CaseFactory(changes=BOWEL, submitted_at=minutes_ago(20))

    response = superuser_client.get(QUEUE_URL)

    assert queue_references(response) == [
        saddle_bladder.reference,
        bowel.reference,
        urgent_contacted.reference,
    ]


@pytest.mark.parametrize(
    ("code", "words"), [("en", "English"), ("es", "Spanish"), ("", "not recorded"), ("xx", "xx")]
)
def test_language_in_words(code, words):
    assert language_in_words(code) == words


def test_one_date_time_format_in_the_clinics_time_zone(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    moment = datetime.datetime(2026, 11, 26, 13, 5, tzinfo=datetime.UTC)
    assert staff_datetime(moment) == "26 Nov 2026, 14:05"
    # Whatever time zone a request may have switched to, staff read clinic time.
    with timezone.override("Asia/Tokyo"):
        assert staff_datetime(moment) == "26 Nov 2026, 14:05"
    assert staff_datetime(None) == ""
    assert staff_date(datetime.date(2026, 3, 9)) == "9 Mar 2026"
