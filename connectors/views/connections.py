"""The connections page: list, add, look after and remove connections (thin views).

Every view works on the connections of the request's space (connectors/views/spaces.py:
the signed-in user's own, or their active team's; 404 otherwise); every change is a POST,
and in a team only its admins change anything (403). Secrets are never rendered: forms
are rebuilt from non-secret config only, and a password field never echoes what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.base import ConnectorError, ConnectorKind
from connectors.hooks import sync_enqueue, sync_status
from connectors.models import Connection
from connectors.registry import kind_get, kinds
from connectors.selectors import (
    connection_counts,
    connection_get_for_user,
    connections_for_user,
    is_drive,
    plural,
    sources_listed,
)
from connectors.services.connections import (
    connection_create,
    connection_reconnect,
    connection_resume,
    sources_include,
)
from connectors.services.disconnect import connection_disconnect
from connectors.views.spaces import manage_space, page_redirect, page_url, space_of

STOP_POLLING = 286  # htmx stops an "every" trigger on this status


@dataclass(frozen=True)
class KindOffer:
    """A kind as the "add" list shows it."""

    slug: str
    name: str
    description: str
    uses_oauth: bool
    not_configured: str  # why it cannot be used here, with the fix ("" when it can)
    url: str  # where "Connect" goes: the form, or the OAuth start
    team_note: str = ""  # why a team cannot add it (the kind itself is configured)


# A team's connection pages do not mount the Google sign-in round trip: its callback would
# have to carry the team (state bound to the user and the team), which it does not yet.
NOT_FOR_TEAMS = (
    "Not offered for teams yet: the Google sign-in cannot carry the team safely. "
    "Connect it in your personal space instead."
)


def oauth_start_url(request: HttpRequest, kind: ConnectorKind) -> str:
    """The kind's OAuth start view, by name: "<slug, - for _>-start", else "<first word>-start"
    (google_calendar -> connectors:google-start). "" when no such route exists (in this
    space: a team's pages have no Google routes)."""
    for name in (kind.slug.replace("_", "-"), kind.slug.split("_")[0]):
        try:
            return page_url(request, f"{name}-start")
        except NoReverseMatch:
            continue
    return ""


def kind_offers(request: HttpRequest) -> list[KindOffer]:
    team = space_of(request).is_team
    offers = []
    for slug, kind in kinds().items():
        url = oauth_start_url(request, kind) if kind.uses_oauth else page_url(request, "add", slug)
        note = NOT_FOR_TEAMS if team and not url else ""
        problem = "" if note else kind.not_configured()
        if not url and not problem and not note:
            problem = f"{kind.name} cannot be connected on this server yet."
        offer = KindOffer(slug, kind.name, kind.description, kind.uses_oauth, problem, url, note)
        offers.append(offer)
    return offers


def error_words(error: ConnectorError) -> dict[str, Any]:
    """A failed "test connection", for the form: what happened, where, what the server said."""
    return {
        "message": error.message,
        "url": error.url,
        "status": error.status,
        "hint": error.hint,
    }


def _kind_name(slug: str) -> str:
    kind = kinds().get(slug)
    return kind.name if kind else slug


def _listed(connection: Connection) -> Connection:
    """A connection as the list shows it (its counts annotated by connections_for_user)."""
    # Attributes for the template, beside the annotated counts (not model fields).
    connection.kind_name = _kind_name(connection.kind)  # type: ignore[attr-defined]
    connection.is_drive = is_drive(connection)  # type: ignore[attr-defined]
    connection.sync = sync_status(connection=connection)  # type: ignore[attr-defined]
    return connection


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    space = space_of(request)
    listed = connections_for_user(user=space.owner)
    connections = [_listed(connection) for connection in listed]
    offers = kind_offers(request) if space.can_manage else []
    context = {"connections": connections, "offers": offers, "space": space,
               "personal_url": reverse("connectors:index")}  # fmt: skip
    return render(request, "connectors/index.html", context)


def _form_for(kind: ConnectorKind, data=None, initial=None):
    form_class = kind.form_class()
    return form_class(data=data, initial=initial) if form_class is not None else None


def _connect_attempt(request: HttpRequest, kind: ConnectorKind, form) -> tuple[Any, Any]:
    """The "test connection" step of a posted, valid form: (what connected, None), or
    (None, the failure in words), or (None, None) when there is nothing to try yet."""
    if request.method != "POST" or form is None or not form.is_valid():
        return None, None
    try:
        return kind.connect(form.cleaned_data), None
    except ConnectorError as failure:
        return None, error_words(failure)


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    context["space"] = space_of(request)
    return render(request, "connectors/add.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, kind: str) -> HttpResponse:
    space = manage_space(request)
    connector = kind_get(kind)
    problem = connector.not_configured()
    if connector.uses_oauth and not problem:
        start = oauth_start_url(request, connector)
        if start:
            return redirect(start)
        problem = NOT_FOR_TEAMS if space.is_team else ""
    form = None if problem else _form_for(connector, data=request.POST or None)
    connected, error = _connect_attempt(request, connector, form)
    if connected is not None:
        connection = connection_create(
            owner=space.owner, kind=kind, connected=connected, actor=space.actor
        )
        sync_enqueue(connection=connection)
        messages.success(request, f"Connected {connection.label}: the first sync has started.")
        return page_redirect(request, "detail", connection.pk)
    return _form_page(
        request, {"kind": connector, "form": form, "error": error, "problem": problem}
    )


def _detail_context(request: HttpRequest, connection: Connection) -> dict[str, Any]:
    return {
        "space": space_of(request),
        "connection": connection,
        "kind": kinds().get(connection.kind),
        "kind_name": _kind_name(connection.kind),
        "sync": sync_status(connection=connection),
        "counts": connection_counts(connection=connection),
        "drive": is_drive(connection),
    }


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=space_of(request).owner, pk=pk)
    context = _detail_context(request, connection)
    context["sources"] = sources_listed(connection=connection)
    return render(request, "connectors/detail.html", context)


@login_required
@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The detail page's live status section, or with ?card=1 the list's card of this
    connection; HTTP 286 (stop polling) once nothing is pending."""
    space = space_of(request)
    connection = connection_get_for_user(user=space.owner, pk=pk)
    if not getattr(request, "htmx", False):
        return page_redirect(request, "detail", pk)
    if request.GET.get("card"):
        listed = _listed(connections_for_user(user=space.owner).get(pk=connection.pk))
        card = {"connection": listed, "space": space}
        response = render(request, "connectors/index.html#card", card)
        if not listed.sync.pending:  # type: ignore[attr-defined]
            response.status_code = STOP_POLLING
        return response
    context = _detail_context(request, connection)
    response = render(request, "connectors/detail.html#status", context)
    if not context["sync"].pending:
        # The sync ended: its calendars' counts change too (swapped in out of band).
        context.update(sources=sources_listed(connection=connection), oob=True)
        response.content += render_to_string(
            "connectors/detail.html#sources", context, request=request
        ).encode()
        response.status_code = STOP_POLLING
    return response


@login_required
@require_POST
def sources_update(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=manage_space(request).owner, pk=pk)
    chosen = [int(value) for value in request.POST.getlist("include") if value.isdigit()]
    before = set(connection.sources.included().values_list("pk", flat=True))
    count = sources_include(connection=connection, included_ids=chosen)
    after = set(connection.sources.included().values_list("pk", flat=True))
    if after - before and not connection.is_paused:
        sync_enqueue(connection=connection)  # the newly included calendars fill in
    noun = "folder" if is_drive(connection) else "calendar"
    messages.success(request, f"{plural(count, noun)} included.")
    return page_redirect(request, "detail", pk)


@login_required
@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=manage_space(request).owner, pk=pk)
    if connection.is_paused:
        messages.error(request, "This connection is paused: fix the problem, then resume it.")
    else:
        sync_enqueue(connection=connection)
    return page_redirect(request, "detail", pk)


@login_required
@require_POST
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=manage_space(request).owner, pk=pk)
    connection_resume(connection=connection)
    connection.refresh_from_db()
    sync_enqueue(connection=connection)
    messages.success(request, "Resumed: syncing again.")
    return page_redirect(request, "detail", pk)


@login_required
@require_http_methods(["GET", "POST"])
def reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """New credentials for a connection: the form again (secrets empty), or the OAuth flow."""
    space = manage_space(request)
    connection = connection_get_for_user(user=space.owner, pk=pk)
    connector = kind_get(connection.kind)
    problem = connector.not_configured()
    if connector.uses_oauth and not problem:
        start = oauth_start_url(request, connector)
        if start:
            return redirect(f"{start}?reconnect={connection.pk}")
        problem = NOT_FOR_TEAMS if space.is_team else ""
    initial = {key: value for key, value in connection.config.items() if isinstance(value, str)}
    form = None if problem else _form_for(connector, data=request.POST or None, initial=initial)
    connected, error = _connect_attempt(request, connector, form)
    if connected is not None:
        connection = connection_reconnect(
            connection=connection, connected=connected, actor=space.actor
        )
        sync_enqueue(connection=connection)
        messages.success(request, f"Reconnected {connection.label}: syncing again.")
        return page_redirect(request, "detail", connection.pk)
    return _form_page(request, {"kind": connector, "form": form, "error": error,
                                "problem": problem, "connection": connection})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    space = manage_space(request)
    connection = connection_get_for_user(user=space.owner, pk=pk)
    if request.method == "POST":
        done = connection_disconnect(connection=connection, actor=space.actor)
        messages.success(request, done.summary())
        if done.revoke_problem:
            messages.warning(
                request,
                f"The server could not be told ({done.revoke_problem}); you may remove this "
                "app's access in its account settings.",
            )
        return page_redirect(request, "index")
    return render(
        request,
        "connectors/disconnect.html",
        {
            "space": space,
            "connection": connection,
            "kind_name": _kind_name(connection.kind),
            "counts": connection_counts(connection=connection),
            "drive": is_drive(connection),
        },
    )
