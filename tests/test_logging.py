"""Logs carry request ids and never patient details."""

from logging.config import dictConfig

import pytest
from django.db import DatabaseError

from tests.intake.questionnaire import fill_all, post_step

pytestmark = pytest.mark.django_db

SECRET_NAME = "Quetzalcoatl-Unlikely"
SECRET_TEXT = "takes-secret-medicine-xyz"


@pytest.fixture
def app_log(capsys, settings):
    """What the app's real log handler writes (stderr), in the given format."""

    def configure(log_format: str):
        config = {**settings.LOGGING}
        config["handlers"] = {
            "console": {**settings.LOGGING["handlers"]["console"], "formatter": log_format}
        }
        config["root"] = {**config["root"], "level": "DEBUG"}
        dictConfig(config)  # binds the handler to the captured stderr

    yield configure
    dictConfig(settings.LOGGING)


def test_no_names_or_free_text_reach_the_logs(client, app_log, capsys, monkeypatch, settings):
    app_log("plain")
    settings.CLINIC_ALERT_EMAILS = ["oncall@example.com"]
    changes = {"last_name": SECRET_NAME, "medications": SECRET_TEXT, "saddle_numbness": "yes"}

    # An emergency (alert email), a rejected step, an unknown page, a failed save.
    fill_all(client, changes, stop_before="health")
    post_step(client, "health", {"medications": SECRET_TEXT, "other_notes": "x" * 2001})
    client.get("/intake/nope/")

    def database_down(**kwargs):
        # Real database errors quote the values involved, like this one.
        raise DatabaseError(f'duplicate key: (last_name)=("{SECRET_NAME}")')

    # The case was made at the first warning sign: the last step adds to it.
    monkeypatch.setattr("intake.views.case_add_answers", database_down)
    post_step(client, "health", {"medications": SECRET_TEXT})
    monkeypatch.undo()
    post_step(client, "health", {"medications": SECRET_TEXT})

    log = capsys.readouterr().err
    assert "Database unavailable" in log  # the failure itself is logged...
    assert "message withheld" in log  # ...with its traceback but not its text
    assert SECRET_NAME not in log
    assert SECRET_TEXT not in log
    assert "Zoë" not in log


def test_json_log_lines_carry_the_request_id(client, app_log, capsys):
    app_log("json")
    client.get("/intake/nope/", HTTP_X_REQUEST_ID="req-abc-123")
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "Not Found" in line)
    assert line.startswith("{")
    assert '"request_id": "req-abc-123"' in line
