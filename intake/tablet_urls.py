"""The clinic tablet page script's endpoints (``intake/tablet.py``).

Mounted at ``/intake/tablet/`` (``clinic/urls.py``), under the draft cookie's
path, so each request carries the questionnaire it keeps alive or clears.
"""

from django.urls import path

from . import tablet

app_name = "clinic_tablet"

urlpatterns = [
    path("keep-alive/", tablet.tablet_keep_alive, name="keep_alive"),
    path("clear/", tablet.tablet_clear, name="clear"),
]
