"""Admin smoke test: every page of every model this app and staff roles rely on renders."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import CaseFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def appointment_for_smoke_test():
    import datetime

    from django.utils import timezone

    from intake.invitations import NewAppointment, appointment_create

    new = NewAppointment(
        first_name="Test",
        last_name="Smoke-Example",
        date_of_birth=datetime.date(1961, 5, 17),
        starts_at=timezone.now() + datetime.timedelta(days=2),
        mobile="555-0100",
    )
    return appointment_create(new=new, by=None).appointment


# Models whose admin this work owns or configures (the conditions app tests its own).
SMOKE_APP_LABELS = ("intake", "auth")


def make_object(model):
    """One row of ``model`` for its change page."""
    match model._meta.label:
        case "intake.Case" | "intake.RedFlagCase":
            return model.objects.get(pk=CaseFactory(changes={"saddle_numbness": "yes"}).pk)
        case "intake.Patient":
            return PatientFactory()
        case "intake.Appointment":
            return appointment_for_smoke_test()
        case "auth.User":
            return UserFactory()
        case "auth.Group":
            return Group.objects.create(name="Smoke test group")
    raise AssertionError(f"add a factory for {model._meta.label} to the admin smoke test")


REGISTERED = sorted(
    (model for model in admin.site._registry if model._meta.app_label in SMOKE_APP_LABELS),
    key=lambda model: model._meta.label,
)


def test_the_smoke_test_covers_the_expected_models():
    labels = {model._meta.label for model in REGISTERED}
    assert {"intake.Case", "intake.RedFlagCase", "intake.Patient"} <= labels
    assert "intake.CaseEvent" not in labels
    assert "intake.IntakeDraft" not in labels


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_admin_pages_render(superuser_client, model, rf, superuser):
    opts = model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    obj = make_object(model)

    assert superuser_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    change = superuser_client.get(reverse(f"{prefix}_change", args=[obj.pk]), follow=True)
    assert change.status_code == 200
    assert str(obj.pk) in change.request["PATH_INFO"]

    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = superuser
    add_status = superuser_client.get(reverse(f"{prefix}_add")).status_code
    assert add_status == (200 if model_admin.has_add_permission(request) else 403)


def test_admin_index_and_app_page_render(superuser_client):
    assert superuser_client.get("/admin/").status_code == 200
    response = superuser_client.get("/admin/intake/")
    assert response.status_code == 200
    assert "Red-flag queue" in response.content.decode()
