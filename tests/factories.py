"""factory_boy factories for test data (all obviously fake)."""

import datetime
import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from intake import triage
from intake.demo import CALM_ANSWERS
from intake.models import Case, Patient
from intake.services import (
    answers_for_triage,
    new_case_reference,
    normalise_last_name,
    normalise_phone,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct-horse-battery-staple")


def staff_in(role: str | None, **kwargs):
    """A staff member in one of the roles of intake.roles (or none)."""
    from django.contrib.auth.models import Group

    user = UserFactory(**kwargs)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = "Testy"
    last_name = factory.Sequence(lambda n: f"Example{n}")
    date_of_birth = datetime.date(1961, 5, 17)
    phone = factory.Sequence(lambda n: f"555-01{n % 100:02d}")
    last_name_key = factory.LazyAttribute(lambda p: normalise_last_name(p.last_name))
    phone_key = factory.LazyAttribute(lambda p: normalise_phone(p.phone))


#: "About you" answers for submitting a case through the service directly.
SUBMISSION_DETAILS = {
    "first_name": "Zoë",
    "last_name": "Quillfeather-Example",
    "date_of_birth": datetime.date(1958, 11, 23),
    "phone": "555-0177",
    "email": "zoe.quill@example.com",
}


def complete_answers(**changes) -> dict:
    """A full, calm set of symptom answers with the given changes."""
    answers = {**CALM_ANSWERS, "symptoms_started": "2026-01-05", **changes}
    return {code: value for code, value in answers.items() if value is not None}


class CaseFactory(factory.django.DjangoModelFactory):
    """A case whose stored triage result really comes from triage.assess."""

    class Meta:
        model = Case

    class Params:
        changes = factory.Dict({})

    patient = factory.SubFactory(PatientFactory)
    reference = factory.LazyFunction(new_case_reference)
    submission_token = factory.LazyFunction(uuid.uuid4)
    answers = factory.LazyAttribute(lambda o: complete_answers(**o.changes))
    consented_at = factory.LazyFunction(timezone.now)
    submitted_at = factory.LazyFunction(timezone.now)

    @factory.lazy_attribute
    def _assessment(self):
        return triage.assess(answers_for_triage(self.answers))

    tier = factory.LazyAttribute(lambda o: o._assessment.tier)
    flags = factory.LazyAttribute(lambda o: list(o._assessment.flags))
    reasons = factory.LazyAttribute(lambda o: list(o._assessment.reasons))
    priority = factory.LazyAttribute(lambda o: o._assessment.priority)
    rules_version = factory.LazyAttribute(lambda o: o._assessment.rules_version)
    emergency_since = factory.LazyAttribute(
        lambda o: o.submitted_at if o.tier == triage.EMERGENCY else None
    )

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        kwargs.pop("_assessment", None)
        return kwargs
