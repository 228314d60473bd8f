"""The live red-flag queue: its endpoint, what changes its version, and what it costs.

The open queue and the admin home page poll ``/admin/intake/redflagcase/live/``
every few seconds (intake/static/intake/live_queue.js); the browser side is in
tests/browser/test_live_queue.py.
"""

import datetime
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from intake.models import AlertAttempt, AlertDelivery, Case
from intake.roles import CLINIC_MANAGER, CLINICIAN, FRONT_DESK
from intake.selectors import ALERT_STALLED_AFTER, red_flag_queue_state
from intake.services import case_acknowledge, case_add_note, case_assign, case_change_status
from tests.factories import CaseFactory, UserFactory, staff_in
from tests.intake.test_query_counts import add_cases

pytestmark = pytest.mark.django_db

LIVE_URL = "/admin/intake/redflagcase/live/"
LIVE_SUMMARY_URL = "/admin/intake/redflagcase/live/summary/"
QUEUE_URL = "/admin/intake/redflagcase/"
NOW = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
SADDLE = {"saddle_numbness": "yes"}
FOOT_DROP = {"foot_lift_difficulty": "yes"}


@pytest.fixture
def front_desk_client(client):
    user = staff_in(FRONT_DESK, username="desk-dee", first_name="Dee", last_name="Desk")
    client.force_login(user)
    client.user = user
    return client


def poll(client, etag: str | None = None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(LIVE_URL, **headers)


def version_now() -> str:
    return red_flag_queue_state().version


# The endpoint -----------------------------------------------------------------


def test_live_url_is_under_the_queue():
    assert reverse("admin:red_flag_queue_live") == LIVE_URL
    assert reverse("admin:red_flag_queue_live_summary") == LIVE_SUMMARY_URL


@time_machine.travel(NOW, tick=False)
def test_live_state_counts_the_queue_and_names_its_version_in_the_etag(front_desk_client):
    newest = CaseFactory(changes=SADDLE, submitted_at=NOW - datetime.timedelta(minutes=2))
    CaseFactory(changes=SADDLE, submitted_at=NOW - datetime.timedelta(minutes=40))  # overdue
    CaseFactory(changes=FOOT_DROP, submitted_at=NOW - datetime.timedelta(hours=5))  # overdue
    CaseFactory(changes=FOOT_DROP, submitted_at=NOW - datetime.timedelta(hours=1))
    CaseFactory(changes=SADDLE, status=Case.Status.CLOSED)  # not in the queue
    CaseFactory()  # routine: not in the queue

    response = poll(front_desk_client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data == {
        "version": data["version"],
        "emergencies": 2,
        "emergencies_overdue": 1,
        "urgent": 2,
        "urgent_overdue": 1,
        "newest_emergency_at": newest.submitted_at.isoformat(),
    }
    assert response["ETag"] == f'"{data["version"]}"'
    assert "private" in response["Cache-Control"]
    assert "no-cache" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_an_unchanged_queue_answers_304_with_the_same_etag(front_desk_client):
    CaseFactory(changes=SADDLE)
    first = poll(front_desk_client)

    again = poll(front_desk_client, first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert poll(front_desk_client, '"something-else"').status_code == 200


def test_a_new_emergency_changes_the_version_and_the_counts(front_desk_client):
    first = poll(front_desk_client)
    assert first.json()["emergencies"] == 0

    CaseFactory(changes=SADDLE)
    response = poll(front_desk_client, first["ETag"])

    assert response.status_code == 200
    assert response.json()["emergencies"] == 1
    assert response["ETag"] != first["ETag"]


CHANGES = {
    "status": lambda case, staff: case_change_status(
        case=case, to_status=Case.Status.IN_REVIEW, by=staff
    ),
    "assignment": lambda case, staff: case_assign(case=case, assignee=staff, by=staff),
    "note": lambda case, staff: case_add_note(case=case, text="Rang twice.", by=staff),
    "acknowledgement": lambda case, staff: case_acknowledge(case=case, by=staff),
    "closed": lambda case, staff: case_change_status(
        case=case, to_status=Case.Status.SENT_TO_EMERGENCY, by=staff
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_a_queued_case_changes_the_version(change):
    staff = UserFactory()
    case = CaseFactory(changes=SADDLE)
    CaseFactory(changes=FOOT_DROP)
    before = version_now()

    CHANGES[change](case, staff)

    assert version_now() != before


def test_the_alert_delivery_changes_the_version():
    case = CaseFactory(changes=SADDLE)
    before = version_now()
    delivery = AlertDelivery.objects.create(case=case, channel="email", kind="alert")
    queued = version_now()
    AlertAttempt.objects.create(delivery=delivery, outcome="failed", error_type="SMTPException")
    failed = version_now()

    assert len({before, queued, failed}) == 3


def test_the_version_changes_when_a_case_turns_overdue_or_an_alert_stalls():
    case = CaseFactory(changes=SADDLE)
    fresh = version_now()
    later = timezone.now() + datetime.timedelta(minutes=16)
    assert red_flag_queue_state(now=later).emergencies_overdue == 1
    assert red_flag_queue_state(now=later).version != fresh

    delivery = AlertDelivery.objects.create(case=case, channel="webhook", kind="alert")
    queued = red_flag_queue_state(now=delivery.next_attempt_at)
    stalled = red_flag_queue_state(
        now=delivery.next_attempt_at + ALERT_STALLED_AFTER + datetime.timedelta(seconds=5)
    )
    assert stalled.emergencies_overdue == queued.emergencies_overdue == 0
    assert stalled.version != queued.version


def test_the_version_is_the_same_for_the_same_state():
    """Several app servers answer the same ETag: nothing comes from the process."""
    CaseFactory(changes=SADDLE)
    at = timezone.now()
    assert red_flag_queue_state(now=at) == red_flag_queue_state(now=at)


# What a poll costs -----------------------------------------------------------------


def test_the_live_state_is_one_query(django_assert_num_queries):
    add_cases(12, staff=UserFactory())
    with django_assert_num_queries(1):
        red_flag_queue_state()


def case_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "intake_case" in q["sql"] and "SAVEPOINT" not in q["sql"]]


def queries_of_a_poll(client) -> tuple[int, list[str]]:
    poll(client)  # warm the process's caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = poll(client)
    assert response.status_code == 200
    everything = [q for q in queries if "SAVEPOINT" not in q["sql"]]
    return len(everything), case_queries(queries)


def test_a_poll_makes_the_same_queries_with_few_and_many_cases_and_one_reads_cases(
    front_desk_client,
):
    add_cases(6, staff=front_desk_client.user)
    few, few_case_queries = queries_of_a_poll(front_desk_client)
    add_cases(240, staff=front_desk_client.user)
    many, many_case_queries = queries_of_a_poll(front_desk_client)

    assert few == many
    assert len(few_case_queries) == len(many_case_queries) == 1
    # Session, user, the role's permissions (two), the state: nothing else, and no write.
    assert many <= 5
    with CaptureQueriesContext(connection) as queries:
        poll(front_desk_client)
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_live_state_is_read_from_the_queues_partial_index():
    """Counted from a partial index of the queue's rows alone, never the whole table.

    PostgreSQL picks between the two partial indexes that hold exactly the
    queue's rows (case_red_flag_summary, usually index-only, or
    case_red_flag_queue) by its statistics of the moment; either reads only
    open emergency and urgent cases.
    """
    add_cases(40, staff=UserFactory())
    with CaptureQueriesContext(connection) as queries:
        red_flag_queue_state()
    (sql,) = [q["sql"] for q in queries]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(
        r"Index (Only )?Scan using case_red_flag_(summary|queue) on intake_case", plan
    ), plan
    assert "Seq Scan" not in plan, plan


# Who may poll ----------------------------------------------------------------------


def test_anonymous_and_non_staff_are_sent_to_the_login_page(client):
    response = client.get(LIVE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

    client.force_login(UserFactory(is_staff=False))
    response = client.get(LIVE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get(LIVE_SUMMARY_URL).status_code == 302


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(FRONT_DESK, True), (CLINICIAN, True), (CLINIC_MANAGER, True), (None, False)],
)
def test_the_queue_permission_decides_who_may_poll(client, role, allowed):
    client.force_login(staff_in(role))
    for url in (LIVE_URL, LIVE_SUMMARY_URL):
        assert client.get(url).status_code == (200 if allowed else 403), url


def test_only_reads_are_allowed(front_desk_client):
    assert front_desk_client.post(LIVE_URL).status_code == 405


# No audit entry and no session write per poll -----------------------------------------


def test_polling_writes_no_audit_entry_while_the_queue_view_writes_one(front_desk_client):
    CaseFactory(changes=SADDLE)
    before = AuditEntry.objects.count()

    for _ in range(3):
        assert poll(front_desk_client).status_code == 200
    front_desk_client.get(LIVE_SUMMARY_URL)
    assert AuditEntry.objects.count() == before

    front_desk_client.get(QUEUE_URL)
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.object_type, e.path) for e in entries] == [
        (AuditEntry.Action.LIST, "case", QUEUE_URL)
    ]


def session_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_polls_and_live_refreshes_do_not_keep_an_idle_session_alive(front_desk_client):
    """Sessions end after 30 minutes idle; an open queue polling is not staff activity."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        front_desk_client.get("/admin/")
        expires = session_expiry(front_desk_client)
        clock.shift(datetime.timedelta(minutes=10))

        poll_response = poll(front_desk_client)
        summary = front_desk_client.get(LIVE_SUMMARY_URL)
        refresh = front_desk_client.get(QUEUE_URL, HTTP_X_LIVE_REFRESH="1")

        for response in (poll_response, summary, refresh):
            assert response.status_code == 200
            assert "sessionid" not in response.cookies
        assert session_expiry(front_desk_client) == expires
        # The live refresh is a view of the queue, and audited as one.
        assert AuditEntry.objects.filter(path=QUEUE_URL, action="list").count() == 1

        front_desk_client.get(QUEUE_URL)  # the staff member's own view does count
        assert session_expiry(front_desk_client) > expires


def test_after_the_idle_timeout_the_poll_is_sent_to_log_in(front_desk_client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert poll(front_desk_client).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = poll(front_desk_client)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# The pages that poll -----------------------------------------------------------------


def inline_scripts(html: str) -> list[str]:
    return [tag for tag in html.split("<script")[1:] if "src=" not in tag.split(">", 1)[0]]


@pytest.mark.parametrize("url", [QUEUE_URL, "/admin/"])
def test_the_queue_and_the_home_page_load_the_live_script_and_no_inline_script(
    front_desk_client, url
):
    CaseFactory(changes=SADDLE)
    html = front_desk_client.get(url).content.decode()

    assert "intake/live_queue.js" in html
    assert f'data-live-url="{LIVE_URL}"' in html
    assert 'id="live-queue-announcer"' in html and 'aria-live="polite"' in html
    assert 'id="live-queue-sound"' in html
    assert f'data-live-version="{version_now()}"' in html
    assert inline_scripts(html) == []


def test_the_summary_endpoint_is_the_home_pages_summary(front_desk_client):
    CaseFactory(changes=SADDLE)
    html = front_desk_client.get(LIVE_SUMMARY_URL).content.decode()
    assert "1 open emergency" in html
    assert f'data-live-version="{version_now()}"' in html
    assert "<html" not in html
