"""/accounts/: local sign-up and the parts of django-allauth the SSO round trip needs.

Not allauth's whole URL set: local sign-in stays Django's LoginView (django-axes guards it) and
allauth's password, email and connection pages stay off. `account_login`/`account_logout`
name the same paths as `login`/`logout` (assistant/urls.py matches those first) so that
allauth's redirects land on our pages.
"""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.socialaccount import views as social_views
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assistant.auth import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/", views.signup, name="account_signup"),
    path("login/", views.LoginView.as_view(), name="account_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="account_logout"),
    path("inactive/", account_views.account_inactive, name="account_inactive"),
    path(
        "3rdparty/login/cancelled/",
        social_views.login_cancelled,
        name="socialaccount_login_cancelled",
    ),
    path("3rdparty/login/error/", social_views.login_error, name="socialaccount_login_error"),
    path("3rdparty/signup/", social_views.signup, name="socialaccount_signup"),
    # /accounts/oidc/<provider_id>/login/ and .../login/callback/ (the redirect URI).
    path("", include("allauth.socialaccount.providers.openid_connect.urls")),
]
