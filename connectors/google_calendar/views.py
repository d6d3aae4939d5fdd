"""The OAuth redirect pair for Google Calendar (early version: filled in below)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@login_required
def oauth_start(request: HttpRequest) -> HttpResponse:
    messages.error(request, "Google Calendar is not available yet.")
    return redirect("connectors:index")


@login_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    messages.error(request, "Google Calendar is not available yet.")
    return redirect("connectors:index")
