"""A drive connection's files page: what was indexed, what was skipped and why, a search
over its passages, and "re-index" per file (thin views; the rows of the request's space
only: the user's own, or their active team's, where only admins re-index)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from connectors.documents.models import Document
from connectors.documents.selectors import (
    document_get_for_user,
    file_counts,
    files_for_connection,
    passages_search,
)
from connectors.hooks import sync_enqueue
from connectors.models import Connection
from connectors.selectors import connection_get_for_user, is_drive
from connectors.services.documents import document_reindex
from connectors.views.spaces import manage_space, page_url, space_of

PAGE_SIZE = 50


def _drive_for_user(request: HttpRequest, pk: int, *, manage: bool = False) -> Connection:
    """The space's drive connection, or 404 (a calendar has no files page); `manage`: the
    user must be allowed to change it (403)."""
    space = manage_space(request) if manage else space_of(request)
    connection = connection_get_for_user(user=space.owner, pk=pk)
    if not is_drive(connection):
        raise Http404("This connection has no files.")
    return connection


@login_required
@require_GET
def files(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _drive_for_user(request, pk)
    space = space_of(request)
    owner = space.owner
    status = request.GET.get("status", "")
    status = status if status in Document.Status.values else ""
    query = request.GET.get("q", "").strip()[:500]
    listed = files_for_connection(user=owner, connection=connection, status=status)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "space": space,
        "connection": connection,
        "counts": file_counts(user=owner, connection=connection),
        "page": page,
        "status": status,
        "query": query,
        "passages": (
            passages_search(user=owner, connection=connection, query=query) if query else None
        ),
    }
    if getattr(request, "htmx", False) and request.GET.get("part") == "passages":
        return render(request, "connectors/files.html#passages", context)
    return render(request, "connectors/files.html", context)


@login_required
@require_POST
def file_reindex(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """Read this file again at the next sync, and start that sync now."""
    connection = _drive_for_user(request, pk, manage=True)
    document = document_get_for_user(user=connection.owner, connection=connection, pk=document_pk)
    document_reindex(document=document)
    if connection.is_paused:
        messages.warning(
            request,
            f"{document.path} will be read again at the next sync; this connection is "
            "paused: resume it first.",
        )
    else:
        sync_enqueue(connection=connection)
        messages.success(request, f"{document.path} will be read again: a sync has started.")
    back = request.POST.get("next", "")
    files_url = page_url(request, "files", connection.pk)
    return redirect(back if back.startswith(files_url) else files_url)
