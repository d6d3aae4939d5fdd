"""django-allauth adapters: what an identity from the OIDC provider must show before it signs
anyone in, and what a first sign-in does.

Refused, with a page that says why and nothing written: an email the provider does not mark
verified (OIDC_REQUIRE_VERIFIED_EMAIL), an email outside OIDC_ALLOWED_EMAIL_DOMAINS (checked on
every sign-in, so narrowing the list locks out people already created), no email at all, and a
new identity whose email already belongs to an account here.

No automatic linking by email. A local account's email was never verified by us (anyone with
sign-up could have typed a colleague's address), so signing the provider's user into it would
hand that account, or the colleague's SSO identity, to whoever created it first. An admin links
the two deliberately (admin → Social accounts) when a local user moves to SSO.
"""

from __future__ import annotations

import importlib
import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import render

from assistant.auth.oidc import nonce_matches

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.SIGNUP_ENABLED


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Local sign-up may be off; the identity provider decides who exists (and
        # pre_social_login who of them may come in).
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            refuse(
                request,
                "This site does not link sign-in providers to accounts by itself. "
                "Ask an admin to link yours.",
            )
        if not nonce_matches(sociallogin):
            refuse(
                request,
                "The identity provider's answer does not belong to this sign-in (its "
                "nonce does not match). Start the sign-in again from this site.",
            )
        email, verified = provider_email(sociallogin)
        if not email:
            refuse(
                request,
                "Your identity provider did not share an email address, which this "
                "site needs. Ask your admin to release the email claim.",
            )
        if settings.OIDC_REQUIRE_VERIFIED_EMAIL and not verified:
            refuse(
                request,
                f"Your identity provider has not verified the email address "
                f"{email}. Verify it there, then sign in again.",
            )
        if not email_domain_allowed(email):
            refuse(
                request,
                f"Accounts with an email address at {email.rpartition('@')[2]} "
                "may not sign in here. Use your work account, or ask an admin.",
            )
        if not sociallogin.is_existing and email_taken(email):
            refuse(
                request,
                f"An account with the email address {email} already exists here. "
                "It is not linked to your identity provider automatically; ask an admin "
                "to link it, or sign in with its username and password.",
            )

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        user = super().save_user(request, sociallogin, form)
        default_team_join(user=user)
        return user


def provider_email(sociallogin: SocialLogin) -> tuple[str, bool]:
    """The primary email the provider sent, and whether it marked it verified."""
    addresses = sociallogin.email_addresses
    primary = next((a for a in addresses if a.primary), addresses[0] if addresses else None)
    if primary is None:
        return "", False
    return primary.email.strip(), bool(primary.verified)


def email_domain_allowed(email: str) -> bool:
    allowed = settings.OIDC_ALLOWED_EMAIL_DOMAINS
    return not allowed or email.rpartition("@")[2].lower() in allowed


def email_taken(email: str) -> bool:
    from allauth.account.models import EmailAddress

    User = get_user_model()
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def refuse(request: HttpRequest, reason: str) -> None:
    """End the SSO sign-in with a 403 page saying why; nothing has been written yet."""
    logger.info("SSO sign-in refused: %s", reason)
    response = render(request, "auth/sso_refused.html", {"reason": reason}, status=403)
    raise ImmediateHttpResponse(response)


def default_team_join(*, user) -> None:
    """Hook: put a first-time SSO user into OIDC_DEFAULT_TEAM.

    Teams live in assistant/teams/, built separately; this calls its
    `services.team_join_default(user=..., team=...)` when that exists, by name at run time so
    sign-in does not depend on the teams package being there.
    """
    team = settings.OIDC_DEFAULT_TEAM
    if not team:
        return
    try:
        services = importlib.import_module("assistant.teams.services")
    except ImportError:
        services = None
    join = getattr(services, "team_join_default", None)
    if join is None:
        logger.warning("OIDC_DEFAULT_TEAM=%r is set but teams have no team_join_default", team)
        return
    join(user=user, team=team)
