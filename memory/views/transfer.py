"""Export, import and "forget everything"."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from memory.forms import FORGET_ALL_PHRASE, MemoryForgetAllForm, MemoryImportForm
from memory.models import Actor
from memory.services import (
    MemoryFieldError,
    MemoryImportError,
    memory_export,
    memory_forget_all,
    memory_import,
)
from memory.views.common import INBOX_CHANGED, LIST_CHANGED, announce


def _plural(count: int) -> str:
    return f"{count} {'memory' if count == 1 else 'memories'}"


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    data = memory_export(owner=request.user)
    filename = f"memory-export-{timezone.localdate():%Y-%m-%d}.json"
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def import_(request: HttpRequest) -> HttpResponse:
    form = MemoryImportForm(request.POST, request.FILES)
    context: dict = {"import_form": MemoryImportForm()}
    if not form.is_valid():
        context["import_error"] = form.errors["file"][0]
    else:
        try:
            count = memory_import(
                owner=request.user, data=form.cleaned_data["file"], changed_by=request.user
            )
        except (MemoryImportError, MemoryFieldError) as error:
            context["import_error"] = f"Nothing was imported. The first problem: {error}"
        else:
            context["import_message"] = f"Imported {_plural(count)}."
    if not request.htmx:
        return redirect("memory:index")
    response = render(request, "memory/page.html#import", context)
    if "import_message" in context:
        announce(response, LIST_CHANGED, INBOX_CHANGED)
    return response


@login_required
@require_POST
def forget_all(request: HttpRequest) -> HttpResponse:
    form = MemoryForgetAllForm(request.POST)
    context: dict = {"forget_all_phrase": FORGET_ALL_PHRASE}
    if not form.is_valid():
        if not request.htmx:
            return redirect("memory:index")
        context["forget_all_form"] = form
        return render(request, "memory/page.html#forget-all", context)
    permanently = form.cleaned_data["permanently"]
    count = memory_forget_all(
        owner=request.user, actor=Actor.USER, permanently=permanently, changed_by=request.user
    )
    if not request.htmx:
        return redirect("memory:index")
    context["forget_all_form"] = MemoryForgetAllForm()
    how = "erased for good" if permanently else "forgotten"
    context["forget_all_message"] = f"{_plural(count).capitalize()} {how}."
    response = render(request, "memory/page.html#forget-all", context)
    return announce(response, LIST_CHANGED, INBOX_CHANGED)
