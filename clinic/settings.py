"""Settings for the clinic intake project.

Everything comes from environment variables (see README "Settings"). The
defaults are the safe ones: debug is off unless asked for, and with debug off
the process refuses to start without a real secret key.
"""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from clinic.client_ip import trusted_proxy_networks

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable; anything unrecognised is an error."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of 1/true/yes/on or 0/false/no/off."
    )


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated environment variable into a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


# Values people paste from tutorials or leave in templates. A key containing
# one of these is treated as unset when debug is off.
_PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "your-secret",
    "your_secret",
    "secret-key",
    "secret_key",
    "secretkey",
    "django-insecure",
    "example",
    "dummy",
    "notsecret",
    "not-secret",
    "xxxxxxxx",
)


def secret_key_problem(key: str) -> str | None:
    """Say why a secret key is unfit for production, or return None if it is fine."""
    if not key.strip():
        return "DJANGO_SECRET_KEY is unset or empty."
    lowered = key.lower()
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return "DJANGO_SECRET_KEY looks like a placeholder."
    if len(key) < 50 or len(set(key)) < 5:
        return "DJANGO_SECRET_KEY must be at least 50 characters of random text."
    return None


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if DEBUG:
    # Development only: a key made fresh for this process, never written down.
    SECRET_KEY = SECRET_KEY or "dev-only-" + secrets.token_urlsafe(50)
else:
    problem = secret_key_problem(SECRET_KEY)
    if problem:
        raise ImproperlyConfigured(
            f"{problem} Set it to a long random value, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_guid",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "audit",
    "intake",
    "conditions",
]

MIDDLEWARE = [
    # First: X-Forwarded-Proto is dropped unless a trusted proxy sent it,
    # before anything asks whether the request is secure.
    "clinic.client_ip.TrustedProxyMiddleware",
    "clinic.health.HealthCheckMiddleware",
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Staff screens stay in English whatever language the patient chose.
    "clinic.middleware.StaffEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "intake.middleware.DatabaseUnavailableMiddleware",
    # Clinic tablets forget an idle questionnaire before any patient page reads it.
    "intake.tablet.ClinicTabletMiddleware",
    "audit.middleware.AdminAuditMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

# Messages travel in a signed cookie so patient pages never need the session
# table (they still render when the database is down).
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

ROOT_URLCONF = "clinic.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"

# Database: one URL. SQLite in the project folder for newcomers; PostgreSQL in
# CI and production (e.g. postgres://user:password@host:5432/clinic).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

# Optional read replica for reporting reads only (see clinic/db_routers.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=60, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # Django's PostgreSQL backend, with a connection health check that reads
        # the socket instead of sending SELECT 1 on every request.
        _database["ENGINE"] = "clinic.postgresql"
        # Fail fast rather than leave a patient waiting on a dead database.
        _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DATABASE_ROUTERS = ["clinic.db_routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username or address is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# After the staff login, when its "next" is missing or points off the site: the
# admin home (Django's default, /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "admin:index"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Patients may use any of these; staff screens stay in English (see
# clinic.middleware.StaffEnglishMiddleware).
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The patient's choice from the language switcher (Django's set_language view).
# A browser-session cookie, so the next patient on a shared clinic tablet starts
# from their own browser's language; no script needs to read it.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
# "26 Nov 2026, 14:05" on every staff page, Django's own admin pages included.
FORMAT_MODULE_PATH = ["clinic.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Requests: a questionnaire step is a few kilobytes; anything far larger is
# refused with a 400 before it reaches a form.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# Sessions (staff only; patients' drafts live in their own table).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True  # 30 minutes idle, not 30 minutes in total
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "intake.views.csrf_failure"

# Transport security. Behind the TLS proxy the app sees X-Forwarded-Proto,
# kept only when the proxy is in CLINIC_TRUSTED_PROXIES (TrustedProxyMiddleware).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: only our own files, no inline scripts.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Email (Django 6.1 MAILERS). Development prints messages to the console.
EMAIL_BACKEND_PATH = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic-intake@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Shared cache. A database table so that several app servers share it;
# `manage.py createcachetable` creates it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "clinic_cache",
    },
    # {% cache %} fragments: parts of the patient pages that are the same for
    # everyone in one language (headers, footers, fixed advice). Kept in each
    # process's memory: they hold no patient data and cost nothing to rebuild.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "clinic-template-fragments",
        "TIMEOUT": 3600,
    },
}

# Client addresses: our own proxies, by address or network (e.g.
# "127.0.0.1,10.0.0.0/8"). X-Forwarded-For and X-Forwarded-Proto are believed
# only from these (clinic/client_ip.py); by default from nobody.
CLINIC_TRUSTED_PROXIES = env_list("CLINIC_TRUSTED_PROXIES")
trusted_proxy_networks(tuple(CLINIC_TRUSTED_PROXIES))  # a typo stops the app here
if env_int("CLINIC_TRUSTED_PROXY_COUNT", 0) != 0:
    # The old setting counted entries from the right of X-Forwarded-For whoever
    # sent the header. Ignoring it silently would put every patient behind the
    # proxy into one rate limit and one lockout, so say what to set instead.
    raise ImproperlyConfigured(
        "CLINIC_TRUSTED_PROXY_COUNT is replaced by CLINIC_TRUSTED_PROXIES: list the "
        "addresses or networks of your proxies (e.g. CLINIC_TRUSTED_PROXIES=127.0.0.1 for "
        "a proxy on the same machine) and unset CLINIC_TRUSTED_PROXY_COUNT."
    )

# Staff login lockout (django-axes, stored in the database).
AXES_FAILURE_LIMIT = env_int("CLINIC_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("CLINIC_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
# Masked wherever axes keeps or logs a login attempt (its own defaults plus
# the one-time code: a wrong code is still a clue to the secret).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
# Nobody, superusers included, reads another person's two-factor secret in
# the admin: whoever holds it and can set the password could sign in as them.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Public questionnaire: requests per client address (clinic tablets share one
# address, so the limit is generous; it stops floods, not patients).
# Counted per window in the database (intake.RateLimitCounter), one statement a post.
CLINIC_RATELIMIT = env_bool("CLINIC_RATELIMIT", True)
CLINIC_INTAKE_RATE = os.environ.get("CLINIC_INTAKE_RATE", "120/m")

# Two-factor login: the issuer name shown in authenticator apps.
OTP_TOTP_ISSUER = os.environ.get("CLINIC_NAME", "Spine and Nerve Clinic")

# Background work (the emergency alert email). In production the task is a row
# written in the same transaction as the case and run by `manage.py db_worker`,
# so an alert survives the web process dying right after the commit.
# Development and tests run tasks at once, in the request.
_TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
CLINIC_TASK_BACKEND = os.environ.get("CLINIC_TASK_BACKEND", "immediate" if DEBUG else "database")
if CLINIC_TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"CLINIC_TASK_BACKEND={CLINIC_TASK_BACKEND!r}: use one of {', '.join(_TASK_BACKENDS)}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[CLINIC_TASK_BACKEND]}}

# Logging: one JSON object per line in production (plain text in development),
# each with the request id (X-Request-ID from the proxy, or a new one) so one
# request can be followed across app servers. Patient details are never
# logged: log messages name case references and record ids only.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId"},
        "no_patient_data": {"()": "clinic.logging.WithholdDatabaseErrorDetails"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "correlation_id": "request_id",
            },
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "no_patient_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every line twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django_guid": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,  # proxies send their own formats
    "IGNORE_URLS": ["healthz", "readyz"],
}

# The clinic itself.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Spine and Nerve Clinic")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "555-0100")
CLINIC_EMERGENCY_NUMBER = os.environ.get("CLINIC_EMERGENCY_NUMBER", "911")
# In development the alert goes to a made-up address and prints in the console.
CLINIC_ALERT_EMAILS = env_list(
    "CLINIC_ALERT_EMAILS", ["clinic-on-call@example.com"] if DEBUG else []
)
# Base URL used for links in alert emails, e.g. https://intake.example.org
CLINIC_BASE_URL = os.environ.get("CLINIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CLINIC_REQUIRE_2FA = env_bool("CLINIC_REQUIRE_2FA", not DEBUG)
# How long an unfinished questionnaire is kept for the patient to resume.
CLINIC_DRAFT_HOURS = env_int("CLINIC_DRAFT_HOURS", 24)
# On a device staff made a clinic tablet (intake/tablet.py), a questionnaire
# left untouched this long is wiped, so the next patient sees nothing of it.
CLINIC_TABLET_IDLE_SECONDS = env_int("CLINIC_TABLET_IDLE_SECONDS", 300)
# How long a device stays a clinic tablet once staff switch it on (browsers
# keep a cookie 400 days at most).
CLINIC_TABLET_COOKIE_DAYS = env_int("CLINIC_TABLET_COOKIE_DAYS", 400)
# A closed case's answers are removed this many days after its last activity
# (about seven years by default; set it to what your jurisdiction requires).
CLINIC_CASE_RETENTION_DAYS = env_int("CLINIC_CASE_RETENTION_DAYS", 2557)
# An emergency case not reviewed this many minutes after submission is overdue.
CLINIC_EMERGENCY_OVERDUE_MINUTES = env_int("CLINIC_EMERGENCY_OVERDUE_MINUTES", 15)
# An urgent case not reviewed this many hours after submission is overdue.
CLINIC_URGENT_OVERDUE_HOURS = env_int("CLINIC_URGENT_OVERDUE_HOURS", 4)

# Emergency alerts (intake/alerts.py). Each alert is a row per channel, made in
# the case's own transaction and retried until it is delivered: after a failed
# try, again after CLINIC_ALERT_RETRY_SECONDS, doubling each time up to
# CLINIC_ALERT_RETRY_MAX_SECONDS, and at that pace for as long as it takes.
CLINIC_ALERT_RETRY_SECONDS = env_int("CLINIC_ALERT_RETRY_SECONDS", 30)
CLINIC_ALERT_RETRY_MAX_SECONDS = env_int("CLINIC_ALERT_RETRY_MAX_SECONDS", 600)
# A second channel: a signed JSON POST to a pager, SMS gateway or chat bridge.
CLINIC_ALERT_WEBHOOK_URL = os.environ.get("CLINIC_ALERT_WEBHOOK_URL", "").strip()
CLINIC_ALERT_WEBHOOK_SECRET = os.environ.get("CLINIC_ALERT_WEBHOOK_SECRET", "")
CLINIC_ALERT_WEBHOOK_TIMEOUT = env_int("CLINIC_ALERT_WEBHOOK_TIMEOUT", 5)
if CLINIC_ALERT_WEBHOOK_URL:
    if not CLINIC_ALERT_WEBHOOK_URL.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"CLINIC_ALERT_WEBHOOK_URL={CLINIC_ALERT_WEBHOOK_URL!r} is not a web address: use "
            "https://... (http:// only for a receiver on the same machine or in tests)."
        )
    if not CLINIC_ALERT_WEBHOOK_SECRET.strip():
        raise ImproperlyConfigured(
            "CLINIC_ALERT_WEBHOOK_URL is set but CLINIC_ALERT_WEBHOOK_SECRET is not: the "
            "receiver could not tell our alerts from forged ones. Set it to a long random "
            "value shared with the receiver."
        )
# An emergency nobody acknowledges within CLINIC_EMERGENCY_OVERDUE_MINUTES is
# escalated to these addresses (and the webhook), again every
# CLINIC_ESCALATION_REPEAT_MINUTES until someone does (manage.py escalate_emergencies).
CLINIC_ESCALATION_EMAILS = env_list("CLINIC_ESCALATION_EMAILS")
CLINIC_ESCALATION_REPEAT_MINUTES = env_int("CLINIC_ESCALATION_REPEAT_MINUTES", 15)
# An alert still failing on one channel this long after its first failure
# escalates at once, on every channel, without waiting for the overdue time.
CLINIC_ALERT_FAILOVER_MINUTES = env_int("CLINIC_ALERT_FAILOVER_MINUTES", 5)

# Invitations and reminders (issue 21; intake/invitation_sending.py). Each
# message is a row per channel, sent by a background task and retried: again
# after CLINIC_INVITATION_RETRY_SECONDS, doubling each time up to
# CLINIC_INVITATION_RETRY_MAX_SECONDS, and given up (state "could not be sent")
# after CLINIC_INVITATION_SEND_ATTEMPTS tries or when the link expires. A
# refusal that will not change (an address or number the server or gateway
# rejects for good) is given up at once.
CLINIC_INVITATION_RETRY_SECONDS = env_int("CLINIC_INVITATION_RETRY_SECONDS", 60)
CLINIC_INVITATION_RETRY_MAX_SECONDS = env_int("CLINIC_INVITATION_RETRY_MAX_SECONDS", 3600)
CLINIC_INVITATION_SEND_ATTEMPTS = env_int("CLINIC_INVITATION_SEND_ATTEMPTS", 10)
# Reminders go this many hours before the appointment while the questionnaire
# is not finished (manage.py send_invitation_reminders, every five minutes):
# one per step, never once it is finished, stopped, cancelled or expired.
_reminder_hours = env_list("CLINIC_REMINDER_HOURS", ["72", "24"])
if not all(hours.isdigit() and 0 < int(hours) < 10000 for hours in _reminder_hours):
    raise ImproperlyConfigured(
        f"CLINIC_REMINDER_HOURS={','.join(_reminder_hours)!r}: list whole hours above 0, "
        "e.g. 72,24 (or leave it empty for no reminders)."
    )
# Largest first: 72 hours before, then 24.
CLINIC_REMINDER_HOURS = sorted({int(hours) for hours in _reminder_hours}, reverse=True)
# Follow-ups (issue 22): how many days a follow-up's link works after it is sent;
# its reminders count back from the end of its last day.
CLINIC_FOLLOW_UP_DAYS = env_int("CLINIC_FOLLOW_UP_DAYS", 14)
# Follow-ups sent by themselves this many weeks after a case is closed, or after
# its visit is booked (its status becomes "Visit booked"); 0 (the default): off.
CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS = env_int("CLINIC_FOLLOW_UP_AFTER_CLOSED_WEEKS", 0)
CLINIC_FOLLOW_UP_AFTER_BOOKED_WEEKS = env_int("CLINIC_FOLLOW_UP_AFTER_BOOKED_WEEKS", 0)
# Text messages (intake/sms.py): "console" prints them (development), "http"
# posts each one, signed like the alert webhook, to CLINIC_SMS_GATEWAY_URL
# (the contract is in the README); or the dotted path of a backend class.
CLINIC_SMS_BACKEND = os.environ.get("CLINIC_SMS_BACKEND", "console" if DEBUG else "http")
CLINIC_SMS_GATEWAY_URL = os.environ.get("CLINIC_SMS_GATEWAY_URL", "").strip()
CLINIC_SMS_GATEWAY_KEY = os.environ.get("CLINIC_SMS_GATEWAY_KEY", "")
CLINIC_SMS_GATEWAY_TIMEOUT = env_int("CLINIC_SMS_GATEWAY_TIMEOUT", 5)
if CLINIC_SMS_GATEWAY_URL:
    if not CLINIC_SMS_GATEWAY_URL.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"CLINIC_SMS_GATEWAY_URL={CLINIC_SMS_GATEWAY_URL!r} is not a web address: use "
            "https://... (http:// only for a gateway on the same machine or in tests)."
        )
    if not CLINIC_SMS_GATEWAY_KEY.strip():
        raise ImproperlyConfigured(
            "CLINIC_SMS_GATEWAY_URL is set but CLINIC_SMS_GATEWAY_KEY is not: the gateway "
            "could not tell our messages from forged ones. Set it to a long random value "
            "shared with the gateway."
        )
