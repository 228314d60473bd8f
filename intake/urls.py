from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.questionnaire_step, name="start"),
    path("check/", views.check_answers, name="check"),
    path("done/", views.confirmation, name="done"),
    path("stop/", views.stop_early, name="stop_early"),
    path("start-again/", views.start_again, name="start_again"),
    path("<slug:step>/", views.questionnaire_step, name="step"),
]
