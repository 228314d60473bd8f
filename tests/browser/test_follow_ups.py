"""A follow-up in real Chromium (issue 22), from the case page to the queue and the trend.

A clinician sends a follow-up questionnaire "in 2 weeks" from a case; two
weeks later (the clock moved on) the reminder job sends it; the patient
opens the emailed link on a phone, confirms their date of birth, and answers
that the other leg is weak now and that the skin between their legs is numb.
The clinic is alerted at once; the queue shows the follow-up on top, "new
since last time" and "worse since last time"; the patient's page shows the
trend table and chart.
"""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from intake.models import Case
from tests.browser.helpers import (
    answer_step,
    assert_no_serious_axe_violations,
    complete_step,
    expect,
    expect_step,
    fill_date,
    log_in,
)
from tests.factories import CaseFactory, PatientFactory
from tests.intake.alert_receivers import running_mail_server, wait_for
from tests.intake.questionnaire import LEGS, PAIN

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

QUEUE_URL = "/admin/intake/redflagcase/"


def test_a_follow_up_sent_in_two_weeks_finds_the_other_leg_weak_and_alerts_at_once(
    pages, clinician, settings
):
    patient = PatientFactory(last_name="Browser-Follow-Up", email="test.browser.follow@example.com")
    baseline = CaseFactory(
        patient=patient,
        changes={"weak_side": "left", "weakness_trend": "same", "pain_score": 3},
        submitted_at=timezone.now() - datetime.timedelta(days=30),
    )
    with running_mail_server(settings) as mail:
        # The clinician sends a follow-up "in 2 weeks" from the case page.
        staff = pages.desktop()
        log_in(staff, clinician, next_url=f"/admin/intake/case/{baseline.pk}/change/")
        staff.get_by_label("In 2 weeks").check()
        staff.get_by_role("button", name="Send the follow-up").click()
        expect(staff.locator(".messagelist")).to_contain_text("Follow-up questionnaire")
        assert not mail.subjects()

        later = timezone.now() + datetime.timedelta(weeks=2, minutes=10)
        with time_machine.travel(later, tick=True):
            call_command("send_invitation_reminders", stdout=io.StringIO())
            [email] = mail.messages
            assert "how are you now?" in email["Subject"]
            text = next(part for part in email.walk() if part.get_content_type() == "text/plain")
            body = text.get_payload(decode=True).decode()
            link = re.search(r"https?://\S+(/intake/invite/\w+/)", body).group(1)

            # The patient opens the link on a phone and confirms their date of birth.
            phone = pages.phone()
            phone.goto(link)
            fill_date(phone, "date_of_birth", patient.date_of_birth.isoformat())
            phone.get_by_role("button", name="Continue").click()
            expect(phone.locator("h1")).to_have_text("How are you now?")
            assert "Browser-Follow-Up" not in phone.locator("main").inner_text()
            assert_no_serious_axe_violations(phone, "follow-up: before you start")
            answer_step(phone, {"consent": "on"})
            expect_step(phone, "legs")
            expect(phone.get_by_text("Compared with last time you answered")).to_be_visible()
            worse_legs = {**LEGS, "change_since_last": "much_worse", "weak_side": "both"}
            complete_step(phone, "legs", worse_legs, "pain")
            complete_step(phone, "pain", PAIN, "warning-signs")
            expect_step(phone, "warning-signs")
            phone.locator('input[name="saddle_numbness"][value="yes"]').check()
            # The emergency advice shows at once, and the clinic is alerted at once.
            expect(phone.locator(".emergency-advice").first).to_be_visible()
            # The page's script sends the answers in the background the moment
            # they make an emergency: wait for the case it makes.
            wait_for(
                lambda: Case.objects.exclude(pk=baseline.pk).exists(),
                what="the follow-up case made at the warning sign",
            )
            follow_up = Case.objects.exclude(pk=baseline.pk).get()
            assert follow_up.tier == "emergency" and follow_up.baseline == baseline
            wait_for(
                lambda: any(follow_up.reference in subject for subject in mail.subjects()),
                what="the emergency alert email",
            )

            # The queue: the follow-up on top, new and worse since last time.
            log_in(staff, clinician, next_url=QUEUE_URL)
            first = staff.locator("#result_list tbody tr").first
            expect(first).to_contain_text(follow_up.reference)
            expect(first).to_contain_text("new since last time")
            expect(first).to_contain_text("worse since last time")

            # The patient's page: the trend table and chart.
            staff.goto(f"/admin/intake/patient/{patient.pk}/change/")
            expect(staff.get_by_role("heading", name="Trends")).to_be_visible()
            expect(staff.get_by_role("table", name="Answers over time")).to_be_visible()
            expect(staff.locator('svg[role="img"]').first).to_be_visible()
            assert_no_serious_axe_violations(staff, "patient page with trends")
