"""Sending invitations (issue 21): one message per channel, once, sent after the commit."""

import datetime

import pytest
from django.utils import timezone

from intake.invitation_sending import queue_invitation_messages
from intake.invitations import NewAppointment, appointment_create
from intake.models import InvitationMessage

pytestmark = pytest.mark.django_db


def new_appointment(**changes) -> NewAppointment:
    values = {
        "first_name": "Test",
        "last_name": "Sending-Example",
        "date_of_birth": datetime.date(1961, 5, 17),
        "starts_at": timezone.now() + datetime.timedelta(days=5),
        "email": "test.sending@example.com",
        "mobile": "555 010 0199",
        "language": "en",
    }
    values.update(changes)
    return NewAppointment(**values)


def test_one_message_per_channel_and_never_twice(django_capture_on_commit_callbacks):
    invitation = appointment_create(new=new_appointment(), by=None)
    with django_capture_on_commit_callbacks() as callbacks:
        first = queue_invitation_messages(invitation=invitation)
    assert sorted(message.channel for message in first) == ["email", "sms"]
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        again = queue_invitation_messages(invitation=invitation)
    assert [message.pk for message in again] == [message.pk for message in first]
    assert callbacks == []  # nothing queued twice
    assert InvitationMessage.objects.filter(invitation=invitation).count() == 2


def test_only_the_channels_the_invitation_has():
    invitation = appointment_create(new=new_appointment(mobile=""), by=None)
    messages = queue_invitation_messages(invitation=invitation)
    assert [message.channel for message in messages] == ["email"]
