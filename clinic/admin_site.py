"""The staff admin site: Django's, plus two-factor login when CLINIC_REQUIRE_2FA is on."""

import re
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import BadRequest, ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest
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

    def has_permission(self, request):
        """Staff may in only when active, staff and, if 2FA is required, verified by a device."""
        allowed = super().has_permission(request)
        if allowed and settings.CLINIC_REQUIRE_2FA:
            return request.user.is_verified()
        return allowed
