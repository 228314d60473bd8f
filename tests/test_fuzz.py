"""Property-based fuzzing of the public questionnaire with hostile input.

Never a 500, never hostile markup echoed unescaped, nothing stored that was
rejected.
"""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import Case, IntakeDraft
from tests.intake.questionnaire import STEP_DATA, STEP_ORDER, fill_all, step_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    # Hundreds of posts from one test address: the limit is tested elsewhere.
    settings.CLINIC_RATELIMIT = False


MARKER = "<script>alert(1)</script>"
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            MARKER,
            '"><img src=x onerror=alert(1)>',
            "'; DROP TABLE intake_case; --",
            "1 OR 1=1",
            "\x00\x01\x02",
            "\u202e\u200b\ufeff",
            "💊" * 500,
            "a" * 5000,
            "../../etc/passwd",
            "{{ 7*7 }}{% debug %}",
            "yes\nno",
            "9999-99-99",
            "-1",
        ]
    ),
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_safe(response):
    assert response.status_code in (200, 302, 400, 429), response.status_code
    if response.status_code == 200:
        assert MARKER not in response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("slug", STEP_ORDER)
@FUZZ
@given(data=st.data())
def test_each_step_survives_hostile_values(slug, data):
    client = Client()
    fill_all(client, stop_before=slug)
    fields = list(STEP_DATA[slug])
    chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, unique=True))
    post = {**STEP_DATA[slug], **{name: data.draw(HOSTILE) for name in chosen}}
    cases_before = Case.objects.count()
    response = client.post(step_url(slug), post)
    _assert_safe(response)
    if response.status_code == 200:
        # Rejected: the form came back with errors and no case was made.
        assert Case.objects.count() == cases_before


@FUZZ
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/json",
        ]
    ),
)
def test_raw_bodies_never_cause_a_server_error(body, content_type):
    client = Client()
    response = client.generic("POST", step_url("about"), body, content_type=content_type)
    _assert_safe(response)


@FUZZ
@given(field=st.sampled_from(list(STEP_DATA["about"])), value=HOSTILE)
def test_rejected_first_step_stores_no_patient_data(field, value):
    client = Client()
    response = client.post(step_url("about"), {**STEP_DATA["about"], field: value})
    _assert_safe(response)
    if response.status_code == 200:
        # The draft keeps what was typed (so nothing is lost) but no case exists.
        assert Case.objects.count() == 0
        assert IntakeDraft.objects.filter(case__isnull=False).count() == 0
