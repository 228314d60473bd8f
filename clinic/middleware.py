"""Project-wide middleware that is not tied to one app."""

from django.conf import settings
from django.utils import translation

#: Paths whose pages are staff screens: always shown in English.
STAFF_PATH_PREFIXES = ("/admin/",)


class StaffEnglishMiddleware:
    """Show staff screens in English, whatever the browser or language cookie asks for.

    Patients may choose Spanish, and ``LocaleMiddleware`` honours that for every
    page, including the admin when the same browser is used by staff (a clinic
    tablet, or a member of staff whose browser prefers Spanish). Staff read
    cases, red flags and the timeline in one language, so every page under
    ``/admin/`` is switched back to English. It must come after
    ``LocaleMiddleware``, which activates the patient's language first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(STAFF_PATH_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
