"""Pre-visit invitations in real Chromium (issue 21), from the clinic's list to the finished case.

The front desk imports tomorrow's appointments as a CSV file; the invitations
go out by email (a real local SMTP server) and by text message (a real local
HTTP gateway that checks the signature). A patient opens the link from the
email on a phone, confirms their date of birth, finds "About you" filled in,
answers and sends; the front desk's "Upcoming visits" then shows the visit
finished, with its tier and a link to the case.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from intake.models import Case, Invitation, InvitationMessage
from intake.roles import FRONT_DESK
from tests.browser.helpers import (
    assert_no_serious_axe_violations,
    complete_step,
    expect,
    expect_step,
    fill_date,
    log_in,
)
from tests.factories import UserFactory
from tests.intake.alert_receivers import running_mail_server, running_sms_gateway
from tests.intake.questionnaire import HEALTH, LEGS, PAIN, WARNING_SIGNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VISITS_URL = "/admin/intake/appointment/"
IMPORT_URL = "/admin/intake/appointment/import/"
BORN = "1958-04-02"


def tomorrows_list(day: datetime.date) -> str:
    """The day's list as the clinic's booking system exports it (fake people)."""
    return (
        "first_name,last_name,date_of_birth,email,mobile,language,"
        "appointment_date,appointment_time,note\n"
        f"Test,Browser-Invited,{BORN},test.browser.invited@example.com,555 010 0142,en,"
        f"{day.isoformat()},09:30,First visit\n"
        f"Test,Browser-Other,1971-11-30,,555 010 0143,es,{day.isoformat()},10:15,\n"
    )


@pytest.fixture
def front_desk():
    user = UserFactory(username="fran", first_name="Fran", last_name="Front-Desk")
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    return user


def test_staff_import_the_day_the_patient_answers_from_the_link_and_the_visit_is_finished(
    pages, front_desk, settings
):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with running_mail_server(settings) as mail, running_sms_gateway(settings) as gateway:
        # The front desk checks the file, sees the preview, and imports it.
        staff = pages.desktop()
        log_in(staff, front_desk, next_url=IMPORT_URL)
        staff.locator('input[type="file"]').set_input_files(
            files=[
                {
                    "name": "tomorrow.csv",
                    "mimeType": "text/csv",
                    "buffer": tomorrows_list(tomorrow).encode(),
                }
            ]
        )
        staff.get_by_role("button", name="Check the file").click()
        expect(staff.locator("#import-preview-heading")).to_contain_text("2 appointments")
        assert not Invitation.objects.exists()  # nothing stored before "Import"
        staff.get_by_role("button", name="Import 2 appointments").click()
        staff.wait_for_load_state()
        assert Invitation.objects.count() == 2

        # Both patients got their link: by email and text message, then text message only.
        sent = InvitationMessage.objects.filter(state=InvitationMessage.State.SENT)
        assert sorted(sent.values_list("channel", flat=True)) == ["email", "sms", "sms"]
        [subject] = mail.subjects()
        assert "Browser-Invited" not in subject and "Test" not in subject
        assert len(gateway.accepted) == 2
        [email] = mail.messages
        text = next(part for part in email.walk() if part.get_content_type() == "text/plain")
        body = text.get_payload(decode=True).decode()
        link = re.search(r"https?://\S+(/intake/invite/\w+/)", body).group(1)

        # The patient opens the link on a phone and confirms their date of birth.
        patient = pages.phone()
        patient.goto(link)
        expect(patient.locator("h1")).to_have_text("Your questionnaire before your visit")
        assert "Browser-Invited" not in patient.content()
        assert_no_serious_axe_violations(patient, "invitation: date of birth")
        fill_date(patient, "date_of_birth", BORN)
        patient.get_by_role("button", name="Continue").click()

        # "About you" is filled in from the clinic's list; the patient checks it and goes on.
        expect_step(patient, "about")
        expect(patient.locator('[name="last_name"]')).to_have_value("Browser-Invited")
        expect(patient.locator('[name="phone"]')).to_have_value("555 010 0142")
        complete_step(patient, "about", {"consent": "on"}, "legs")
        complete_step(patient, "legs", LEGS, "pain")
        complete_step(patient, "pain", PAIN, "warning-signs")
        complete_step(patient, "warning-signs", WARNING_SIGNS, "health")
        complete_step(patient, "health", HEALTH, None)

        # The front desk sees the visit finished, with its tier and its case.
        case = Case.objects.get()
        invitation = Invitation.objects.get(case=case)
        assert case.patient_id == invitation.appointment.patient_id
        staff.goto(f"{VISITS_URL}?day={tomorrow.isoformat()}&span=day")
        row = staff.locator("tr", has_text="Browser-Invited")
        expect(row).to_contain_text("finished")
        expect(row).to_contain_text(case.reference)
        other = staff.locator("tr", has_text="Browser-Other")
        expect(other).to_contain_text("sent")
        assert_no_serious_axe_violations(staff, "upcoming visits")
