"""The staff admin site: Django's, plus two-factor login when CLINIC_REQUIRE_2FA is on."""

import re
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import BadRequest, ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm

#: A list page's date drill-down (``?created_at__year=2026&created_at__month=5``).
_DATE_PART_PARAMETER = re.compile(r"__(year|month|day)$")
_DATE_PART_VALUE = re.compile(r"^[0-9]{1,4}$")


#: The range of a 64-bit integer key, the widest the database's integer columns hold.
_LARGEST_KEY = 2**63 - 1


def refuse_impossible_object_id(view, object_ids: list[str]) -> None:
    """Raise ``Http404`` when a model admin screen's object id could never be a key.

    A quote or a word where a number belongs made Django raise ``ValueError``
    in screens that look the id up without the admin's own guard (the audit
    middleware, django-simple-history's history page): no such object, so 404.
    """
    model_admin = getattr(view, "__self__", None)
    model = getattr(model_admin, "model", None)
    if model is None:
        return
    key = model._meta.pk
    for object_id in object_ids:
        try:
            value = key.to_python(unquote(object_id))
        except ValidationError:
            raise Http404("No such object.") from None
        if isinstance(value, int) and not -_LARGEST_KEY <= value <= _LARGEST_KEY:
            raise Http404("No such object.")


def refuse_hostile_parameters(request: HttpRequest, view_kwargs: dict) -> None:
    """Raise ``BadRequest`` (400) for input no staff screen can use.

    A NUL byte (in the address or a query parameter) cannot be stored or
    compared in PostgreSQL, which answers with a DataError; a date part with
    more than four digits overflows Python's date before the admin can refuse
    it. Both only come from a hand-made or hostile address.
    """
    values = [request.path, *map(str, view_kwargs.values())]
    for key, items in request.GET.lists():
        values += [key, *items]
        if _DATE_PART_PARAMETER.search(key) and not all(
            _DATE_PART_VALUE.match(item) for item in items
        ):
            raise BadRequest("Not a date.")
    if any("\x00" in value for value in values):
        raise BadRequest("NUL byte in the request.")


#: Marks a login that failed at the second factor, for the audit log's receiver.
SECOND_FACTOR_FAILED = "second_factor_failed"


class TwoFactorAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """Password and one-time code; a right password with a wrong or missing code is a failure.

    django-otp refuses such a login without telling anyone, so a stolen
    password could be tried against every code unseen. Here it is a failed
    login like a wrong password: ``user_login_failed`` is sent, which
    django-axes counts toward the lockout and the audit log records.
    """

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if self.user_cache is not None:  # the password was right; the code was not
                user_login_failed.send(
                    sender=type(self),
                    credentials={
                        "username": self.user_cache.get_username(),
                        SECOND_FACTOR_FAILED: True,
                    },
                    request=self.request,
                )
            raise


# The admin home, grouped in plain words -----------------------------------------------


@dataclass(frozen=True)
class AdminSection:
    """One named group of the admin home and sidebar, its entries in the order shown.

    ``entries`` maps a model ("app_label.model_name") to the plain name staff read;
    ``apps`` are the app labels whose other models land here too (a model added
    later to ``intake`` shows under Cases with its own name, never unlisted).
    """

    slug: str
    name: Promise
    entries: dict[str, Promise]
    apps: tuple[str, ...] = ()
    superuser_only: bool = False


ADMIN_SECTIONS: tuple[AdminSection, ...] = (
    AdminSection(
        slug="cases",
        name=_("Cases"),
        entries={
            "intake.redflagcase": _("Red-flag queue"),
            "intake.case": _("All cases"),
            "intake.patient": _("Patients"),
            "intake.appointment": _("Upcoming visits"),
        },
        apps=("intake",),
    ),
    AdminSection(
        slug="content",
        name=_("Content"),
        entries={
            "conditions.condition": _("Conditions"),
            "conditions.reference": _("References"),
        },
        apps=("conditions",),
    ),
    AdminSection(
        slug="people-and-security",
        name=_("People and security"),
        entries={
            "auth.user": _("Staff users"),
            "auth.group": _("Roles"),
            "otp_totp.totpdevice": _("Two-factor devices"),
            "axes.accessattempt": _("Lockouts"),
            "axes.accessfailurelog": _("Failed sign-ins"),
            "axes.accesslog": _("Sign-in history"),
            "audit.auditentry": _("Audit log"),
        },
        apps=("auth", "django_otp", "otp_totp", "axes", "audit"),
    ),
    AdminSection(
        slug="system",
        name=_("System"),
        entries={"django_tasks_database.dbtaskresult": _("Background tasks")},
        apps=("django_tasks_database",),
        # Task arguments and tracebacks are for whoever runs the servers, whatever
        # permissions a role was given by hand.
        superuser_only=True,
    ),
)
#: Where a model of an app no section names goes: shown, by its own name, to whoever may.
OTHER_SECTION = AdminSection(slug="other", name=_("Other"), entries={})


def admin_section_of(model) -> AdminSection:
    """The section of the admin home that lists ``model``."""
    key = f"{model._meta.app_label}.{model._meta.model_name}"
    for section in ADMIN_SECTIONS:
        if key in section.entries:
            return section
    for section in ADMIN_SECTIONS:
        if model._meta.app_label in section.apps:
            return section
    return OTHER_SECTION


def superuser_only_models(site: admin.AdminSite) -> list:
    """The models registered on ``site`` whose screens only superusers may open."""
    return [model for model in site._registry if admin_section_of(model).superuser_only]


class SuperuserOnlyAdminMixin:
    """A model admin that refuses everyone but superusers, whatever permissions they hold."""

    def has_module_permission(self, request):
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, *args, **kwargs):
        return request.user.is_superuser and super().has_view_permission(request, *args, **kwargs)

    def has_add_permission(self, request, *args, **kwargs):
        return request.user.is_superuser and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, *args, **kwargs):
        allowed = super().has_change_permission(request, *args, **kwargs)
        return request.user.is_superuser and allowed

    def has_delete_permission(self, request, *args, **kwargs):
        allowed = super().has_delete_permission(request, *args, **kwargs)
        return request.user.is_superuser and allowed


def restrict_to_superusers(site: admin.AdminSite, model) -> None:
    """Register ``model`` again with its admin made superuser-only (a third party's admin)."""
    registered = type(site._registry[model])
    site.unregister(model)
    site.register(
        model,
        type(f"SuperuserOnly{registered.__name__}", (SuperuserOnlyAdminMixin, registered), {}),
    )


class ClinicAdminSite(admin.AdminSite):
    site_header = "Clinic intake: staff"
    site_title = "Clinic intake staff"
    index_title = "Cases and content"

    @property
    def login_form(self):
        if settings.CLINIC_REQUIRE_2FA:
            return TwoFactorAdminAuthenticationForm
        return AdminAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.CLINIC_REQUIRE_2FA else None

    def admin_view(self, view, cacheable=False):
        """Every staff screen, refusing hostile parameters (400) and impossible ids (404) first."""

        @wraps(view)
        def checked(request, *args, **kwargs):
            refuse_hostile_parameters(request, kwargs)
            # The id in a model admin's path: named, or the first of re_path()'s groups.
            object_id = kwargs.get("object_id", kwargs.get("pk", args[0] if args else None))
            if object_id is not None:
                refuse_impossible_object_id(view, [str(object_id)])
            try:
                return view(request, *args, **kwargs)
            except ObjectDoesNotExist as missing:
                # Third-party screens (django-otp's device QR code) look an id up
                # with .get(): an id that names nothing is a 404, not a crash.
                raise Http404("No such object.") from missing

        return super().admin_view(checked, cacheable)

    def get_app_list(self, request, app_label=None):
        """The home page's and sidebar's sections in plain words, with what the user may use.

        Django groups by app ("AXES", "OTP_TOTP"); here each ``ADMIN_SECTIONS``
        group is one section, its models named for staff, in the table's order.
        Django has already left out what the user has no permission for; a
        superuser-only section is left out for everyone else. With
        ``app_label`` (the app's own page, ``/admin/axes/``) only that app's
        models are listed, under the same sections.
        """
        models = [
            entry
            for app in self._build_app_dict(request, app_label).values()
            for entry in app["models"]
        ]
        return self._sections(request, models)

    def _sections(self, request, models: list[dict]) -> list[dict]:
        by_slug: dict[str, dict] = {}
        for entry in models:
            model = entry["model"]
            section = admin_section_of(model)
            if section.superuser_only and not request.user.is_superuser:
                continue
            key = f"{model._meta.app_label}.{model._meta.model_name}"
            listed = list(section.entries)
            entry["name"] = capfirst(section.entries.get(key, model._meta.verbose_name_plural))
            entry["_order"] = (listed.index(key) if key in listed else len(listed), entry["name"])
            if section.slug not in by_slug:
                by_slug[section.slug] = {
                    "name": section.name,
                    "app_label": section.slug,
                    "app_url": reverse(
                        "admin:section_index", args=[section.slug], current_app=self.name
                    ),
                    "has_module_perms": True,
                    "models": [],
                }
            by_slug[section.slug]["models"].append(entry)
        order = [section.slug for section in (*ADMIN_SECTIONS, OTHER_SECTION)]
        app_list = sorted(by_slug.values(), key=lambda app: order.index(app["app_label"]))
        for app in app_list:
            app["models"].sort(key=lambda entry: entry.pop("_order"))
        return app_list

    def section_index(self, request, section: str, extra_context=None):
        """One section's page (its heading's link on the home page), like an app's page."""
        app_list = [app for app in self.get_app_list(request) if app["app_label"] == section]
        if not app_list:
            raise Http404("The requested admin page does not exist.")
        context = {
            **self.each_context(request),
            "title": app_list[0]["name"],
            "subtitle": None,
            "app_list": app_list,
            "app_label": section,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def get_urls(self):
        return [
            path(
                "sections/<slug:section>/",
                self.admin_view(self.section_index),
                name="section_index",
            ),
            *super().get_urls(),
        ]

    def has_permission(self, request):
        """Staff may in only when active, staff and, if 2FA is required, verified by a device."""
        allowed = super().has_permission(request)
        if allowed and settings.CLINIC_REQUIRE_2FA:
            return request.user.is_verified()
        return allowed
