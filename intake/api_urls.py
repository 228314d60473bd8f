"""The staff JSON API (FHIR R4), mounted at /api/ by clinic/urls.py."""

from django.urls import path

from .exports import views as export_views

app_name = "api"

urlpatterns = [
    path(
        "fhir/Questionnaire/intake/",
        export_views.fhir_questionnaire,
        name="fhir_questionnaire",
    ),
    path("cases/<str:reference>/fhir/", export_views.case_fhir_bundle, name="case_fhir"),
]
