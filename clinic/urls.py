from django.contrib import admin
from django.urls import include, path

from intake import views as intake_views

urlpatterns = [
    path("", intake_views.landing, name="landing"),
    path("intake/", include("intake.urls")),
    path("conditions/", include("conditions.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("intake.api_urls")),
]

handler400 = "intake.views.bad_request"
handler404 = "intake.views.page_not_found"
handler500 = "intake.views.server_error"
