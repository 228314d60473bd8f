"""Settings come from the environment and are secure by default."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.settings import env_bool, secret_key_problem

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "off",
    "DJANGO_ALLOWED_HOSTS": "intake.clinic.example",
    "CLINIC_ALERT_EMAILS": "oncall@clinic.example",
    "CLINIC_ESCALATION_EMAILS": "lead@clinic.example",
    "CLINIC_BASE_URL": "https://intake.clinic.example",
    "DATABASE_URL": "sqlite:////tmp/clinic-deploy-check.sqlite3",
    "CLINIC_TRUSTED_PROXIES": "127.0.0.1",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINIC_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("raw", ["1", "true", "YES", " on "])
def test_env_bool_true(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_env_bool_false(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", True) is False


def test_env_bool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_FLAG", False)


@pytest.mark.parametrize(
    "key",
    ["", "   ", "changeme", "django-insecure-" + "a" * 60, "your-secret-key-here" * 4, "ab" * 40],
)
def test_weak_or_placeholder_secret_keys_are_refused(key):
    assert secret_key_problem(key) is not None


def test_random_secret_key_is_accepted():
    assert secret_key_problem(secrets.token_urlsafe(64)) is None


@pytest.mark.parametrize("key", [None, "", "changeme-please-" * 4])
def test_app_refuses_to_start_without_a_real_secret_key(key):
    env = dict(PRODUCTION_ENV)
    if key is not None:
        env["DJANGO_SECRET_KEY"] = key
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_production_settings_require_two_factor_login():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    script = "from django.conf import settings; print(settings.CLINIC_REQUIRE_2FA)"
    result = run_manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_deploy_check_warns_when_nobody_would_get_emergency_alerts():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env.pop("CLINIC_ALERT_EMAILS")
    env["CLINIC_BASE_URL"] = "http://127.0.0.1:8000"
    result = run_manage("check", "--deploy", env=env)
    assert "intake.W001" in result.stderr + result.stdout
    assert "intake.W002" in result.stderr + result.stdout


def test_deploy_check_warns_when_no_proxy_is_trusted():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env.pop("CLINIC_TRUSTED_PROXIES")
    result = run_manage("check", "--deploy", env=env)
    assert "intake.W006" in result.stderr + result.stdout


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.1/8", "10.0.0.0/33", "1.2.3.4:80"])
def test_trusted_proxies_must_be_addresses_or_networks(entry):
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "CLINIC_TRUSTED_PROXIES": f"127.0.0.1,{entry}",
    }
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "CLINIC_TRUSTED_PROXIES" in result.stderr
    assert repr(entry) in result.stderr


def test_the_old_proxy_count_setting_says_what_to_set_instead():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "CLINIC_TRUSTED_PROXY_COUNT": "1",
    }
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "CLINIC_TRUSTED_PROXY_COUNT is replaced by CLINIC_TRUSTED_PROXIES" in result.stderr
    # 0 meant "trust nobody", which is still what an empty list means.
    env["CLINIC_TRUSTED_PROXY_COUNT"] = "0"
    assert run_manage("check", env=env).returncode == 0


def test_production_trusts_no_proxy_unless_told():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env.pop("CLINIC_TRUSTED_PROXIES")
    script = "from django.conf import settings; print(settings.CLINIC_TRUSTED_PROXIES)"
    result = run_manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
