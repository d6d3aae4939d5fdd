"""The OAuth redirect pair: start sends the user to Google's consent page; the callback
checks the state, trades the code for tokens, stores (or reconnects) the connection and
queues its first sync. Any failure lands back on the connections page, said in words.

Every Google kind (Calendar, Drive) shares the pair: its start URL names the kind, the
session remembers it, and one callback (one redirect URI to register) serves them all."""

from __future__ import annotations

import secrets
from typing import Any, Protocol, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from connectors import hooks
from connectors.base import Connected, ConnectorError
from connectors.google_calendar.oauth import SESSION_KEY, code_exchange, consent_start
from connectors.models import Connection
from connectors.registry import kind_get
from connectors.selectors import connection_get_for_user
from connectors.services.connections import connection_create, connection_reconnect

SLUG = "google_calendar"
GOOGLE_KINDS = ("google_calendar", "google_drive")
GOOGLE_ERRORS = {
    "access_denied": "You declined access on Google's page, so nothing was connected.",
    "admin_policy_enforced": "Your Google Workspace administrator does not allow this app.",
    "org_internal": "This server's Google app is limited to another organisation's accounts.",
}


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("connectors:google-callback"))


class GoogleKind(Protocol):
    """What a Google kind offers the views: the scopes it asks for, and what to store."""

    scopes: list[str]

    def not_configured(self) -> str: ...

    def connected(self, secrets: dict[str, Any]) -> Connected: ...


def _google_kind(slug: str) -> GoogleKind:
    if slug not in GOOGLE_KINDS:
        raise Http404("Not a Google kind.")
    return cast(GoogleKind, kind_get(slug))


def _own_google(request: HttpRequest, pk: str, slug: str) -> Connection:
    connection = connection_get_for_user(user=request.user, pk=int(pk) if pk.isdigit() else 0)
    if connection.kind != slug:
        raise Http404("Not a connection of this Google kind.")
    return connection


def _fail(request: HttpRequest, text: str) -> HttpResponse:
    messages.error(request, text)
    return redirect("connectors:index")


@login_required
@require_http_methods(["GET", "POST"])
def oauth_start(request: HttpRequest, slug: str = SLUG) -> HttpResponse:
    kind = _google_kind(slug)
    problem = kind.not_configured()
    if problem:
        return _fail(request, problem)
    reconnect = request.POST.get("reconnect") or request.GET.get("reconnect") or ""
    if reconnect:  # only a Google connection of this user, of this kind
        reconnect = str(_own_google(request, reconnect, slug).pk)
    url, kept = consent_start(redirect_uri=_redirect_uri(request), scopes=kind.scopes)
    request.session[SESSION_KEY] = {**kept, "reconnect": reconnect or "", "kind": slug}
    return redirect(url)


def drive_start(request: HttpRequest) -> HttpResponse:
    """Google Drive's start: the same consent flow, with Drive's scope."""
    return oauth_start(request, slug="google_drive")


@login_required
@require_http_methods(["GET"])
def oauth_callback(request: HttpRequest) -> HttpResponse:
    kept = request.session.pop(SESSION_KEY, None)
    if not kept:
        return _fail(request, "The Google sign-in expired or was started in another browser: "
                              "start again.")  # fmt: skip
    error = request.GET.get("error", "")
    if error:
        return _fail(request, GOOGLE_ERRORS.get(error, f"Google stopped the sign-in ({error})."))
    state = request.GET.get("state", "")
    if not state or not secrets.compare_digest(state.encode(), str(kept["state"]).encode()):
        return _fail(request, "The Google sign-in did not match the one started here: "
                              "start again.")  # fmt: skip
    code = request.GET.get("code", "")
    if not code:
        return _fail(request, "Google sent no authorisation code: start again.")
    slug = kept.get("kind") or SLUG
    kind = _google_kind(slug)
    try:
        tokens = code_exchange(
            redirect_uri=_redirect_uri(request), code=code, kept=kept, scopes=kind.scopes
        )
        connected = kind.connected(tokens)
    except ConnectorError as failure:
        return _fail(request, f"{failure.message} {failure.hint}".strip())
    with transaction.atomic():
        if kept.get("reconnect"):
            connection = _own_google(request, kept["reconnect"], slug)
            connection = connection_reconnect(connection=connection, connected=connected)
            done = f"{connection.label} is reconnected."
        else:
            connection = connection_create(owner=request.user, kind=slug, connected=connected)
            done = f"{connection.label} is connected and syncing."
        transaction.on_commit(lambda: hooks.sync_enqueue(connection=connection))
    messages.success(request, done)
    return redirect("connectors:detail", pk=connection.pk)
