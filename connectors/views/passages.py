"""A passage of a synced file: where a [d:N] chip under an answer leads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from connectors.documents.passages import passage_get_for_user
from connectors.views.spaces import space_of


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    passage = passage_get_for_user(user=space_of(request).owner, pk=pk)
    return render(request, "connectors/passage.html", {"passage": passage})
