"""Sign-in pages beyond Django's own LoginView: the lock-out after too many failures."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assistant.auth.views import sign_in_options


def login_locked_out(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: the login page again, saying why and for how long.

    Used for /accounts/login/ and /admin/login/ alike. Axes passes the original response and
    the credentials in varying positions between its sync and async paths; neither is needed.
    """
    username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "")
    form = AuthenticationForm(request, initial={"username": username})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_out": True,
        "cooloff_minutes": minutes,
        **sign_in_options(),
    }
    return render(request, "registration/login.html", context, status=429)
