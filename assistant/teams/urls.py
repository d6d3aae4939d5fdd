"""/teams/... (included from assistant/urls.py under the "teams" namespace)."""

from django.urls import path

from assistant.teams import audit_views, proposal_views, views

app_name = "teams"

urlpatterns = [
    path("", views.index, name="index"),
    path("new", views.create, name="create"),
    path("switch", views.switch, name="switch"),
    path("join/<str:token>", views.join, name="join"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/settings", views.settings_update, name="settings"),
    path("<int:pk>/invite", views.invite, name="invite"),
    path(
        "<int:pk>/invitations/<int:invitation_id>/revoke",
        views.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("<int:pk>/members/<int:membership_id>/role", views.member_role, name="member-role"),
    path(
        "<int:pk>/members/<int:membership_id>/remove",
        views.member_remove_view,
        name="member-remove",
    ),
    path("<int:pk>/members/<int:membership_id>/transfer", views.transfer, name="transfer"),
    path("<int:pk>/leave", views.leave, name="leave"),
    path("<int:pk>/audit/", audit_views.audit, name="audit"),
    path("<int:pk>/audit.csv", audit_views.audit_csv, name="audit-csv"),
    # Proposals to the team's memory (the active team; the chat's team for a passage).
    path("propose/memory/<int:item_id>", proposal_views.memory_propose, name="propose-memory"),
    path(
        "propose/c/<int:conversation_id>/m/<int:message_id>",
        proposal_views.passage_propose,
        name="propose-passage",
    ),
]
