"""Follow-ups (issue 22): cases linked to their baseline, compared with the case before."""

import datetime

import pytest
from django.utils import timezone

from intake.models import Case
from intake.selectors import case_chain, previous_case, with_previous_answers
from intake.services import case_submit
from tests.factories import SUBMISSION_DETAILS, CaseFactory, complete_answers

pytestmark = pytest.mark.django_db

START = timezone.now() - datetime.timedelta(days=100)


def chain_of(count: int) -> list[Case]:
    """A baseline and ``count - 1`` follow-ups a week apart, the pain score rising."""
    baseline = CaseFactory(submitted_at=START, changes={"pain_score": 1})
    cases = [baseline]
    for week in range(1, count):
        cases.append(
            CaseFactory(
                patient=baseline.patient,
                baseline=baseline,
                submitted_at=START + datetime.timedelta(weeks=week),
                changes={"pain_score": min(week + 1, 10)},
            )
        )
    return cases


def test_a_follow_up_is_linked_to_the_chain_s_baseline():
    baseline = CaseFactory()
    first = case_submit(
        details=SUBMISSION_DETAILS,
        answers=complete_answers(),
        submission_token=CaseFactory.build().submission_token,
        follow_up_of=baseline,
    )
    second = case_submit(
        details=SUBMISSION_DETAILS,
        answers=complete_answers(weak_side="both"),
        submission_token=CaseFactory.build().submission_token,
        follow_up_of=first,
    )
    assert first.baseline == baseline and second.baseline == baseline
    assert baseline.baseline is None
    assert second.tier  # assessed by the current rules like any case


def test_the_chain_is_in_time_order_from_any_of_its_cases(django_assert_num_queries):
    cases = chain_of(4)
    CaseFactory()  # another patient's case is not in it
    with django_assert_num_queries(1):
        chain = case_chain(cases[2])
    assert [case.pk for case in chain] == [case.pk for case in cases]
    assert previous_case(chain, cases[2]) == cases[1]
    assert previous_case(chain, cases[0]) is None


def test_each_follow_up_in_a_list_carries_the_previous_answers_in_one_query(
    django_assert_num_queries,
):
    cases = chain_of(50)
    with django_assert_num_queries(1):
        listed = list(with_previous_answers(Case.objects.order_by("submitted_at")))
    assert listed[0].previous_answers is None and listed[0].previous_flags is None
    for before, case in zip(listed, listed[1:], strict=False):
        assert case.previous_answers == before.answers
        assert case.previous_flags == before.flags
    assert listed[5].previous_answers["pain_score"] == cases[4].answers["pain_score"]


# Sending a follow-up and answering it ---------------------------------------------


def follow_up_link(invitation) -> str:
    from django.urls import reverse

    from intake.invitations import invitation_token

    return reverse("intake:invitation", kwargs={"token": invitation_token(invitation)})


def test_a_scheduled_follow_up_waits_then_the_job_sends_it(
    django_capture_on_commit_callbacks, mail_server
):
    import io

    import time_machine
    from django.core.management import call_command

    from intake.invitations import follow_up_schedule
    from intake.models import InvitationMessage

    baseline = CaseFactory(patient__email="test.follow.up@example.com")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = follow_up_schedule(
            case=baseline, by=None, send_at=now + datetime.timedelta(weeks=2)
        )
    assert not mail_server.subjects()  # nothing yet
    assert invitation.appointment is None and invitation.follow_up_of == baseline
    assert set(InvitationMessage.objects.values_list("state", flat=True)) == {"pending"}
    assert baseline.events.filter(summary__startswith="Follow-up questionnaire scheduled").exists()

    later = now + datetime.timedelta(weeks=2, minutes=5)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("send_invitation_reminders", stdout=io.StringIO())
    subjects = mail_server.subjects()
    assert subjects and all("how are you now?" in subject for subject in subjects)
    assert baseline.patient.last_name not in " ".join(subjects)


def test_no_follow_up_for_a_case_whose_answers_were_deleted():
    from intake.invitations import FollowUpRefused, follow_up_schedule

    purged = CaseFactory(answers={}, status=Case.Status.CLOSED)
    with pytest.raises(FollowUpRefused):
        follow_up_schedule(case=purged, by=None)


def test_the_patient_answers_the_follow_up_and_an_emergency_is_a_new_case_at_once(
    client, django_capture_on_commit_callbacks
):
    from intake.invitations import follow_up_schedule
    from tests.intake.questionnaire import step_url
    from tests.intake.test_invitations import CONFIRM, birth_date

    baseline = CaseFactory(changes={"weak_side": "left", "weakness_trend": "same"})
    invitation = follow_up_schedule(case=baseline, by=None)
    client.get(follow_up_link(invitation))
    response = client.post(CONFIRM, birth_date(baseline.patient.date_of_birth))
    assert response["Location"] == step_url("about")

    # "About you": the details are kept, not shown; only the statement is asked again.
    page = client.get(step_url("about")).content.decode()
    assert "How are you now?" in page
    assert f'type="hidden" name="last_name" value="{baseline.patient.last_name}"' in page
    assert 'name="consent"' in page
    assert 'name="appointment_date' not in page
    assert (
        client.post(step_url("about"), {**hidden_details(page), "consent": "on"}).status_code == 302
    )

    # The legs step asks how things changed, and needs an answer.
    legs = client.get(step_url("legs")).content.decode()
    assert "Compared with last time you answered, your legs are:" in legs
    from tests.intake.questionnaire import LEGS, PAIN, WARNING_SIGNS

    missing = client.post(step_url("legs"), {**LEGS, "weak_side": "both"})
    assert missing.status_code == 200 and "Please choose an answer." in missing.content.decode()
    changed = {**LEGS, "weak_side": "both", "change_since_last": "much_worse"}
    assert client.post(step_url("legs"), changed).status_code == 302
    assert client.post(step_url("pain"), PAIN).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(step_url("warning-signs"), {**WARNING_SIGNS, "saddle_numbness": "yes"})

    follow_up = Case.objects.exclude(pk=baseline.pk).get()
    assert follow_up.tier == "emergency" and follow_up.created_early
    assert follow_up.baseline == baseline
    assert follow_up.patient_id == baseline.patient_id
    assert follow_up.answers["change_since_last"] == "much_worse"
    assert follow_up.alert_deliveries.exists()  # the clinic is alerted at once


def hidden_details(page: str) -> dict:
    import re

    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))


def test_a_first_questionnaire_never_asks_how_things_changed(client):
    from tests.intake.questionnaire import fill_all, step_url

    fill_all(client, stop_before="legs")
    assert "Compared with last time" not in client.get(step_url("legs")).content.decode()
    fill_all(client)
    assert "change_since_last" not in Case.objects.get().answers


# What staff see ----------------------------------------------------------------------


def worse_chain():
    """A baseline with the left leg weak, then a follow-up: both legs, numbness between the legs."""
    baseline = CaseFactory(
        submitted_at=START, changes={"weak_side": "left", "weakness_trend": "same"}
    )
    follow_up = CaseFactory(
        patient=baseline.patient,
        baseline=baseline,
        changes={
            "weak_side": "both",
            "weakness_trend": "same",
            "saddle_numbness": "yes",
            "change_since_last": "much_worse",
        },
    )
    return baseline, follow_up


def test_the_queue_shows_the_follow_up_on_top_new_and_worse_since_last_time(
    superuser_client,
):
    from django.urls import reverse

    _baseline, follow_up = worse_chain()
    older = CaseFactory(changes={"foot_lift_difficulty": "yes"}, submitted_at=START)  # urgent

    page = superuser_client.get(reverse("admin:intake_redflagcase_changelist")).content.decode()

    assert follow_up.tier == "emergency"
    assert page.index(follow_up.reference) < page.index(older.reference)
    row = page[page.index(follow_up.reference) :][:4000]
    assert "follow-up" in row
    assert "new since last time:" in row
    assert "worse since last time" in row


def test_the_case_page_says_what_is_worse_and_shows_the_trend(superuser_client):
    from django.urls import reverse

    baseline, follow_up = worse_chain()
    page = superuser_client.get(
        reverse("admin:intake_case_change", args=[follow_up.pk])
    ).content.decode()

    assert "Worse since last time:" in page
    assert "weakness has spread to the other leg" in page
    assert "New since last time:" in page
    assert baseline.reference in page
    assert 'role="img"' in page and "<svg" in page  # the trend chart
    assert "Answers over time" in page


def test_staff_send_a_follow_up_in_two_weeks_from_the_case_page(superuser_client, settings):
    from django.urls import reverse

    from intake.models import Invitation

    case = CaseFactory(patient__email="test.follow@example.com")
    response = superuser_client.post(
        reverse("admin:intake_case_follow_up", args=[case.pk]), {"when": "2"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.follow_up_of == case
    assert invitation.send_after > timezone.now() + datetime.timedelta(days=13)
    assert case.events.filter(summary__startswith="Follow-up questionnaire scheduled").exists()
    # A date must be given and in the next year.
    superuser_client.post(reverse("admin:intake_case_follow_up", args=[case.pk]), {"when": "date"})
    assert Invitation.objects.count() == 1


def test_the_patient_page_shows_50_follow_ups_in_the_queries_of_one(
    superuser_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    small = chain_of(2)
    large = chain_of(51)
    counts = []
    for chain in (small, large):
        url = reverse("admin:intake_patient_change", args=[chain[0].patient_id])
        superuser_client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            page = superuser_client.get(url)
        assert page.status_code == 200
        assert "Answers over time" in page.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_printable_summary_and_the_pdf_carry_the_course(superuser_client):
    import io

    from django.urls import reverse
    from pypdf import PdfReader

    baseline, follow_up = worse_chain()
    page = superuser_client.get(
        reverse("admin:intake_case_summary", args=[follow_up.pk])
    ).content.decode()
    assert "Course over time" in page
    assert "weakness has spread to the other leg" in page
    assert baseline.reference in page and follow_up.reference in page

    pdf = superuser_client.get(reverse("admin:intake_case_summary_pdf", args=[follow_up.pk]))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Course over time" in text
    assert baseline.reference in text
    # A case without follow-ups has no such section.
    single = CaseFactory()
    page = superuser_client.get(reverse("admin:intake_case_summary", args=[single.pk]))
    assert "Course over time" not in page.content.decode()


def test_a_follow_up_is_scheduled_by_itself_when_the_settings_ask(settings):
    from intake.models import Invitation
    from intake.services import case_change_status
    from tests.factories import UserFactory

    settings.CLINIC_FOLLOW_UP_AFTER_BOOKED_WEEKS = 6
    settings.CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS = 12
    staff = UserFactory()
    case = CaseFactory(patient__email="test.auto@example.com")
    case_change_status(case=case, to_status=Case.Status.IN_REVIEW, by=staff)
    assert not Invitation.objects.exists()

    case_change_status(case=case, to_status=Case.Status.SCHEDULED, by=staff)
    [invitation] = Invitation.objects.all()
    weeks = (invitation.send_after - timezone.now()) / datetime.timedelta(weeks=1)
    assert 5.9 < weeks <= 6 and invitation.follow_up_of == case
    # One waiting follow-up at most: closing the case now adds none.
    case_change_status(case=case, to_status=Case.Status.CLOSED, by=staff)
    assert Invitation.objects.count() == 1


def test_no_automatic_follow_up_by_default_or_without_an_address(settings):
    from intake.models import Invitation
    from intake.services import case_change_status
    from tests.factories import UserFactory

    staff = UserFactory()
    case = CaseFactory()
    case_change_status(case=case, to_status=Case.Status.IN_REVIEW, by=staff)
    case_change_status(case=case, to_status=Case.Status.CLOSED, by=staff)
    assert not Invitation.objects.exists()

    settings.CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS = 12
    unreachable = CaseFactory(patient__email="", patient__phone="")
    case_change_status(case=unreachable, to_status=Case.Status.IN_REVIEW, by=staff)
    case_change_status(case=unreachable, to_status=Case.Status.CLOSED, by=staff)
    assert not Invitation.objects.exists()


def test_a_follow_up_answered_once_cannot_be_answered_again(client):
    from intake.invitations import follow_up_schedule
    from tests.intake.questionnaire import LEGS, send_answers, step_url
    from tests.intake.questionnaire import STEP_DATA as DATA
    from tests.intake.test_invitations import CONFIRM, birth_date

    baseline = CaseFactory()
    invitation = follow_up_schedule(case=baseline, by=None)
    client.get(follow_up_link(invitation))
    client.post(CONFIRM, birth_date(baseline.patient.date_of_birth))
    page = client.get(step_url("about")).content.decode()
    client.post(step_url("about"), {**hidden_details(page), "consent": "on"})
    client.post(step_url("legs"), {**LEGS, "change_since_last": "same"})
    for slug in ("pain", "warning-signs", "health"):
        assert client.post(step_url(slug), DATA[slug]).status_code == 302
    assert send_answers(client).status_code == 302
    assert Case.objects.filter(baseline=baseline).count() == 1

    # The same link again, in this browser or another: the calm page, nothing new.
    assert client.get(follow_up_link(invitation)).status_code == 404
    from django.test import Client

    assert Client().get(follow_up_link(invitation)).status_code == 404
    assert Case.objects.filter(baseline=baseline).count() == 1
