"""Uploads (thin views): the uploads page, adding files (from its form or a drop on the
chat), deleting one, and the files page's live "indexing" line. The Uploads of the
request's space only (the user's own, or their active team's, where only admins add and
delete); every change is a POST."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from connectors.documents.selectors import document_get_for_user
from connectors.hooks import sync_enqueue, sync_status
from connectors.models import Connection
from connectors.selectors import connection_get_for_user
from connectors.uploads.kind import UploadsKind
from connectors.uploads.services import (
    UploadOutcome,
    upload_add,
    upload_delete,
    uploads_connection,
    uploads_connection_get_or_create,
)
from connectors.views.spaces import manage_space, page_redirect, space_of

STOP_POLLING = 286  # htmx stops an "every" trigger on this status


def _uploads_for_user(request: HttpRequest, pk: int, *, manage: bool = False) -> Connection:
    space = manage_space(request) if manage else space_of(request)
    connection = connection_get_for_user(user=space.owner, pk=pk)
    if connection.kind != UploadsKind.slug:
        raise Http404("Only uploaded files are deleted here.")
    return connection


@login_required
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """The space's uploads: their files page, or (before the first upload) the form alone."""
    space = manage_space(request)
    connection = uploads_connection(owner=space.owner)
    if connection is not None:
        return page_redirect(request, "files", connection.pk)
    return render(request, "connectors/uploads.html", {"space": space})


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """Store the posted files and queue the sync that indexes them. htmx (the chat) gets
    a notice to show; a plain form goes back to the files page with messages."""
    space = manage_space(request)
    files = request.FILES.getlist("files")
    outcomes: list[UploadOutcome] = []
    connection = uploads_connection_get_or_create(owner=space.owner) if files else None
    for uploaded in files:
        assert connection is not None  # made above whenever there are files
        outcome = upload_add(
            connection=connection,
            name=uploaded.name or "",
            blocks=uploaded.chunks(),  # streamed to disk, never read whole
            size=uploaded.size,
            content_type=uploaded.content_type or "",
        )
        outcomes.append(outcome)
    if connection is not None and any(o.added for o in outcomes) and not connection.is_paused:
        sync_enqueue(connection=connection)
    if getattr(request, "htmx", False):
        context = {"outcomes": outcomes, "connection": connection}
        return render(request, "connectors/uploads_notice.html", context)
    if not files:
        messages.error(request, "Choose a file to upload.")
    for outcome in outcomes:
        if outcome.added:
            messages.success(request, f"{outcome.name} added, indexing…")
        else:
            messages.error(request, f"{outcome.name} was not added: {outcome.message}")
    if connection is None:
        return page_redirect(request, "uploads-start")
    return page_redirect(request, "files", connection.pk)


@login_required
@require_POST
def file_delete(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    connection = _uploads_for_user(request, pk, manage=True)
    document = document_get_for_user(user=connection.owner, connection=connection, pk=document_pk)
    upload_delete(document=document)
    messages.success(request, f"Deleted {document.path} and its passages.")
    return page_redirect(request, "files", connection.pk)


@login_required
@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The files page's "indexing…" line while a sync runs; once it ends, the page reloads
    (to list what was read), and polling stops (HTTP 286)."""
    connection = _uploads_for_user(request, pk)
    if not getattr(request, "htmx", False):
        return page_redirect(request, "files", pk)
    sync = sync_status(connection=connection)
    if sync.pending:
        return render(
            request, "connectors/uploads_status.html", {"connection": connection, "sync": sync}
        )
    response = HttpResponse("", status=STOP_POLLING)
    if request.GET.get("watching"):
        response["HX-Refresh"] = "true"
    return response
