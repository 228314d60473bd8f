from django.urls import path

from . import invitation_views, views

app_name = "intake"

urlpatterns = [
    path("", views.questionnaire_step, name="start"),
    path("check/", views.check_answers, name="check"),
    path("done/", views.confirmation, name="done"),
    path("stop/", views.stop_early, name="stop_early"),
    path("start-again/", views.start_again, name="start_again"),
    path("invite/", invitation_views.invitation_confirm, name="invitation_confirm"),
    path("invite/<str:token>/", invitation_views.invitation, name="invitation"),
    path(
        "invite/<str:token>/stop-reminders/",
        invitation_views.stop_reminders,
        name="invitation_stop",
    ),
    path("<slug:step>/", views.questionnaire_step, name="step"),
]
