from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assistant.auth import views as auth_views_sso
from assistant.background import views as background
from assistant.teams.memory_urls import personal_memory_patterns, team_memory_patterns
from assistant.views import account, chat, event_proposals, passages, stream, turn_tools

chat_patterns = (
    [
        path("", chat.home, name="home"),
        path("c/new", chat.conversation_new, name="conversation-new"),
        path("c/<int:conversation_id>/", chat.conversation_detail, name="conversation"),
        path("c/<int:conversation_id>/profile", chat.conversation_profile, name="profile"),
        path("c/<int:conversation_id>/delete", chat.conversation_delete, name="delete"),
        path("c/<int:conversation_id>/send", chat.message_send, name="send"),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/stream",
            stream.message_stream,
            name="stream",
        ),
        path("c/<int:conversation_id>/m/<int:message_id>/stop", chat.message_stop, name="stop"),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/regenerate",
            chat.message_regenerate,
            name="regenerate",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/continue",
            chat.message_continue,
            name="continue",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/remember",
            turn_tools.message_remember_view,
            name="remember",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/context",
            turn_tools.message_context_view,
            name="context",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/passages/<int:item_id>/",
            passages.cited_passage_view,
            name="passage",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/events/<int:item_id>/",
            passages.cited_event_view,
            name="event",
        ),
        path(
            "c/<int:conversation_id>/m/<int:message_id>/memories/<int:item_id>/",
            passages.cited_memory_view,
            name="memory",
        ),
    ],
    "chat",
)

urlpatterns = [
    path("", include(chat_patterns)),
    # The memory page's background-work section polls this (assistant/background/views.py).
    path("memory/background", background.status, name="background-status"),
    # The memory pages: the user's own, and the active team's (assistant/teams/memory_urls.py).
    path("memory/", include((personal_memory_patterns, "memory"))),
    path("team/memory/", include((team_memory_patterns, "memory"), namespace="team-memory")),
    path("account/", account.account, name="account"),
    path("account/activity/", account.activity, name="account-activity"),
    path("account/activity.csv", account.activity_csv, name="account-activity-csv"),
    # Personal API tokens, and the ones team admins may revoke (assistant/api/).
    path("account/tokens/", include("assistant.api.token_urls")),
    path("usage/", include("assistant.usage.urls")),
    # The REST API (OpenAPI schema and docs page) and the OpenAI-compatible endpoint; the
    # MCP server is mounted beside Django in assistant/asgi.py.
    path("api/", include("assistant.api.rest.urls")),
    path("v1/", include("assistant.api.openai_urls")),
    path("proposals/<int:pk>/confirm", event_proposals.confirm, name="proposal-confirm"),
    path("proposals/<int:pk>/edit", event_proposals.edit, name="proposal-edit"),
    path("proposals/<int:pk>/cancel", event_proposals.cancel, name="proposal-cancel"),
    path("connections/", include("connectors.urls")),
    # The active team's connections (assistant/teams/connector_urls.py).
    path(
        "team/connections/",
        include("assistant.teams.connector_urls", namespace="team-connectors"),
    ),
    path("teams/", include("assistant.teams.urls")),
    # /healthz is answered by assistant.middleware.HealthzMiddleware, before host checks.
    path("accounts/login/", auth_views_sso.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Local sign-up and the OpenID Connect round trip (assistant/auth/urls.py).
    path("accounts/", include("assistant.auth.urls")),
    path("admin/", admin.site.urls),
]
