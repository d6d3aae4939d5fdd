"""Personal API tokens (/account/tokens/), and the tokens reaching a team for its admins."""

from django.urls import path

from assistant.api import token_views as views

app_name = "tokens"
urlpatterns = [
    path("", views.token_list, name="list"),
    path("create", views.token_create_view, name="create"),
    path("<int:token_id>/revoke", views.token_revoke_view, name="revoke"),
    path("team/<int:team_id>/", views.team_tokens, name="team"),
    path("team/<int:team_id>/<int:token_id>/revoke", views.team_token_revoke, name="team-revoke"),
]
