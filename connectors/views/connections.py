"""The connections page: list, add, look after and remove connections (thin views).

Every view is for the signed-in user's own connections (404 otherwise); every change is a
POST. Secrets are never rendered: forms are rebuilt from non-secret config only, and a
password field never echoes what was typed.
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


def oauth_start_url(kind: ConnectorKind) -> str:
    """The kind's OAuth start view, by name: "<slug, - for _>-start", else "<first word>-start"
    (google_calendar -> connectors:google-start). "" when no such route exists."""
    for name in (kind.slug.replace("_", "-"), kind.slug.split("_")[0]):
        try:
            return reverse(f"connectors:{name}-start")
        except NoReverseMatch:
            continue
    return ""


def kind_offers() -> list[KindOffer]:
    offers = []
    for slug, kind in kinds().items():
        url = oauth_start_url(kind) if kind.uses_oauth else reverse("connectors:add", args=[slug])
        problem = kind.not_configured()
        if not url and not problem:
            problem = f"{kind.name} cannot be connected on this server yet."
        offer = KindOffer(slug, kind.name, kind.description, kind.uses_oauth, problem, url)
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
    connections = [_listed(connection) for connection in connections_for_user(user=request.user)]
    return render(
        request,
        "connectors/index.html",
        {"connections": connections, "offers": kind_offers()},
    )


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
    return render(request, "connectors/add.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, kind: str) -> HttpResponse:
    connector = kind_get(kind)
    problem = connector.not_configured()
    if connector.uses_oauth and not problem:
        start = oauth_start_url(connector)
        if start:
            return redirect(start)
    form = None if problem else _form_for(connector, data=request.POST or None)
    connected, error = _connect_attempt(request, connector, form)
    if connected is not None:
        connection = connection_create(owner=request.user, kind=kind, connected=connected)
        sync_enqueue(connection=connection)
        messages.success(request, f"Connected {connection.label}: the first sync has started.")
        return redirect("connectors:detail", pk=connection.pk)
    return _form_page(
        request, {"kind": connector, "form": form, "error": error, "problem": problem}
    )


def _detail_context(connection: Connection) -> dict[str, Any]:
    return {
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
    connection = connection_get_for_user(user=request.user, pk=pk)
    context = _detail_context(connection)
    context["sources"] = sources_listed(connection=connection)
    return render(request, "connectors/detail.html", context)


@login_required
@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The detail page's live status section, or with ?card=1 the list's card of this
    connection; HTTP 286 (stop polling) once nothing is pending."""
    connection = connection_get_for_user(user=request.user, pk=pk)
    if not getattr(request, "htmx", False):
        return redirect("connectors:detail", pk=pk)
    if request.GET.get("card"):
        listed = _listed(connections_for_user(user=request.user).get(pk=connection.pk))
        response = render(request, "connectors/index.html#card", {"connection": listed})
        if not listed.sync.pending:  # type: ignore[attr-defined]
            response.status_code = STOP_POLLING
        return response
    context = _detail_context(connection)
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
    connection = connection_get_for_user(user=request.user, pk=pk)
    chosen = [int(value) for value in request.POST.getlist("include") if value.isdigit()]
    before = set(connection.sources.included().values_list("pk", flat=True))
    count = sources_include(connection=connection, included_ids=chosen)
    after = set(connection.sources.included().values_list("pk", flat=True))
    if after - before and not connection.is_paused:
        sync_enqueue(connection=connection)  # the newly included calendars fill in
    noun = "folder" if is_drive(connection) else "calendar"
    messages.success(request, f"{plural(count, noun)} included.")
    return redirect("connectors:detail", pk=pk)


@login_required
@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=request.user, pk=pk)
    if connection.is_paused:
        messages.error(request, "This connection is paused: fix the problem, then resume it.")
    else:
        sync_enqueue(connection=connection)
    return redirect("connectors:detail", pk=pk)


@login_required
@require_POST
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=request.user, pk=pk)
    connection_resume(connection=connection)
    connection.refresh_from_db()
    sync_enqueue(connection=connection)
    messages.success(request, "Resumed: syncing again.")
    return redirect("connectors:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """New credentials for a connection: the form again (secrets empty), or the OAuth flow."""
    connection = connection_get_for_user(user=request.user, pk=pk)
    connector = kind_get(connection.kind)
    problem = connector.not_configured()
    if connector.uses_oauth and not problem:
        start = oauth_start_url(connector)
        if start:
            return redirect(f"{start}?reconnect={connection.pk}")
    initial = {key: value for key, value in connection.config.items() if isinstance(value, str)}
    form = None if problem else _form_for(connector, data=request.POST or None, initial=initial)
    connected, error = _connect_attempt(request, connector, form)
    if connected is not None:
        connection = connection_reconnect(connection=connection, connected=connected)
        sync_enqueue(connection=connection)
        messages.success(request, f"Reconnected {connection.label}: syncing again.")
        return redirect("connectors:detail", pk=connection.pk)
    return _form_page(request, {"kind": connector, "form": form, "error": error,
                                "problem": problem, "connection": connection})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        done = connection_disconnect(connection=connection)
        messages.success(request, done.summary())
        if done.revoke_problem:
            messages.warning(
                request,
                f"The server could not be told ({done.revoke_problem}); you may remove this "
                "app's access in its account settings.",
            )
        return redirect("connectors:index")
    return render(
        request,
        "connectors/disconnect.html",
        {
            "connection": connection,
            "kind_name": _kind_name(connection.kind),
            "counts": connection_counts(connection=connection),
            "drive": is_drive(connection),
        },
    )
