"""The sign-in page's options (local form, SSO buttons, sign-up link) and local sign-up."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods


def sign_in_options() -> dict:
    """Template context for registration/login.html: one button per configured OIDC app."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    buttons = [
        {
            "name": app["name"],
            "url": reverse("openid_connect_login", kwargs={"provider_id": app["provider_id"]}),
        }
        for app in apps
    ]
    return {"sso_buttons": buttons, "signup_enabled": settings.SIGNUP_ENABLED}


class LoginView(auth_views.LoginView):
    """Django's login view (django-axes guards its form), plus the SSO buttons."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **sign_in_options()}


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        # Unique, so that an SSO identity with this address is never confused with this account.
        email = self.cleaned_data["email"].strip()
        if email and get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A local account, when SIGNUP_ENABLED; otherwise a 404 page saying sign-up is off."""
    if not settings.SIGNUP_ENABLED:
        return render(request, "auth/signup_closed.html", sign_in_options(), status=404)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    status = 400 if request.method == "POST" else 200
    return render(request, "auth/signup.html", {"form": form}, status=status)
