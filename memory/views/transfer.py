"""Export, import and "forget everything"."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from memory.forms import (
    FORGET_ALL_PHRASE,
    MemoryForgetAllForm,
    MemoryImportForm,
    too_large_message,
)
from memory.hooks import background_import_enqueue, background_status
from memory.models import Actor
from memory.services import (
    MemoryFieldError,
    MemoryImportError,
    memory_export,
    memory_forget_all,
    memory_import,
    memory_import_plan,
)
from memory.spaces import Space
from memory.uploads import ImportSizeLimit
from memory.views.common import (
    INBOX_CHANGED,
    LIST_CHANGED,
    HtmxHttpRequest,
    announce,
    managed_space,
    render_space,
    space_redirect,
)


def _plural(count: int) -> str:
    return f"{count} {'memory' if count == 1 else 'memories'}"


@login_required
@require_GET
def export(request: HtmxHttpRequest) -> HttpResponse:
    space = managed_space(request)
    data = memory_export(owner=space.owner, changed_by=space.actor)
    prefix = f"team-memory-{slugify(space.label) or 'team'}" if space.is_team else "memory"
    filename = f"{prefix}-export-{timezone.localdate():%Y-%m-%d}.json"
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@csrf_exempt  # the CSRF check reads the body: it runs below, once the size limit is in place
@login_required
@require_POST
def import_(request: HtmxHttpRequest) -> HttpResponse:
    managed_space(request)  # before the body is read: a team member gets 403 at once
    limit = ImportSizeLimit(request, limit=settings.MEMORY_IMPORT_MAX_BYTES)
    request.upload_handlers.insert(0, limit)
    return _import(request, limit)


def _import_file(request: HtmxHttpRequest, space: Space, data: dict, context: dict) -> Any:
    """Import a checked file now, or queue a big one; fills the message or the error in
    `context` and returns the queued run, if any."""
    sync_max = settings.MEMORY_IMPORT_SYNC_MAX_ITEMS
    try:
        count = len(memory_import_plan(data=data))
        if count > sync_max:
            upload = request.FILES.get("file")
            name = getattr(upload, "name", "") or "a file"
            queued = background_import_enqueue(
                owner=space.owner,
                data=data,
                item_count=count,
                label=name,
                requested_by=space.actor,  # a team's import names the admin, not the account
            )
            context["import_message"] = (
                f"Importing {count:,} memories in the background; progress shows above."
            )
            return queued
        result = memory_import(owner=space.owner, data=data, changed_by=space.actor)
    except (MemoryImportError, MemoryFieldError) as error:
        context["import_error"] = f"Nothing was imported. The first problem: {error}"
        return None
    context["import_message"] = result.summary
    return None


@csrf_protect
def _import(request: HtmxHttpRequest, limit: ImportSizeLimit) -> HttpResponse:
    space = managed_space(request)
    form = MemoryImportForm(request.POST, request.FILES)
    context: dict = {
        "import_form": MemoryImportForm(),
        "import_max_bytes": settings.MEMORY_IMPORT_MAX_BYTES,
    }
    queued = None
    if limit.refused_bytes:
        context["import_error"] = too_large_message(limit.refused_bytes)
    elif not form.is_valid():
        context["import_error"] = form.errors["file"][0]
    else:
        queued = _import_file(request, space, form.cleaned_data["file"], context)
    if not request.htmx:
        return space_redirect(request, "index")
    response = render_space(request, "memory/page.html#import", context)
    if queued:  # the page's background-work section starts polling (an out-of-band swap)
        status = background_status(user=space.owner) | {"pipeline_oob": True, "space": space}
        response.write(render_to_string("memory/page.html#pipeline", status, request))
    elif "import_message" in context:
        announce(response, LIST_CHANGED, INBOX_CHANGED)
    return response


@login_required
@require_POST
def forget_all(request: HtmxHttpRequest) -> HttpResponse:
    space = managed_space(request)
    form = MemoryForgetAllForm(request.POST)
    context: dict = {"forget_all_phrase": FORGET_ALL_PHRASE}
    if not form.is_valid():
        if not request.htmx:
            return space_redirect(request, "index")
        context["forget_all_form"] = form
        return render_space(request, "memory/page.html#forget-all", context)
    permanently = form.cleaned_data["permanently"]
    count = memory_forget_all(
        owner=space.owner, actor=Actor.USER, permanently=permanently, changed_by=space.actor
    )
    if not request.htmx:
        return space_redirect(request, "index")
    context["forget_all_form"] = MemoryForgetAllForm()
    how = "erased for good" if permanently else "forgotten"
    context["forget_all_message"] = f"{_plural(count).capitalize()} {how}."
    response = render_space(request, "memory/page.html#forget-all", context)
    return announce(response, LIST_CHANGED, INBOX_CHANGED)
