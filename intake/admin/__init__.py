"""Staff screens: the red-flag queue, all cases, and patients.

Nothing here writes to a case directly. The case page is read-only; each of its
buttons posts to a small view (``CaseAdmin.get_urls``) that checks its own
permission and calls one service from ``intake/services.py``, and the list
actions call the same services. The admin therefore obeys the same rules
(transition map, timeline entry in the same transaction) as everything else.

Cases and patients come only from the questionnaire, so nobody can add or
delete them here, and the timeline (``CaseEvent``) is not registered at all: it
is shown read-only on the case page.

One module per screen, each with its own filters and forms: ``queue.py`` (the
red-flag queue and its live updates), ``cases.py`` (all cases and the case
page), ``patients.py``; ``common.py`` holds what they share. Importing them
here registers their admins when Django autodiscovers ``intake.admin``.
"""

from . import appointments  # noqa: F401  (registers Upcoming visits, AppointmentAdmin)
from .cases import CaseAdmin
from .common import EstimatedCountPaginator
from .patients import PatientAdmin
from .queue import RedFlagCaseAdmin

__all__ = ["CaseAdmin", "EstimatedCountPaginator", "PatientAdmin", "RedFlagCaseAdmin"]
