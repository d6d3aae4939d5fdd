"""The usage pages (/usage/)."""

from django.urls import path

from assistant.usage import views

app_name = "usage"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("team/<int:team_id>/", views.team, name="team"),
]
