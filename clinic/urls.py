from django.contrib import admin
from django.urls import include, path

from intake import patient_details_views
from intake import views as intake_views

urlpatterns = [
    path("", intake_views.landing, name="landing"),
    path("intake/tablet/", include("intake.tablet_urls")),  # before the questionnaire's steps
    path("intake/", include("intake.urls")),
    path("conditions/", include("conditions.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the admin's own URLs; staff-only through admin_view like its pages.
    path(
        "admin/intake/case/<str:case_id>/patient-details/",
        admin.site.admin_view(patient_details_views.update_patient_from_case),
        name="case_update_patient",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("intake.api_urls")),
]

handler400 = "intake.views.bad_request"
handler404 = "intake.views.page_not_found"
handler500 = "intake.views.server_error"
