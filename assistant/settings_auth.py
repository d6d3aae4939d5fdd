"""Sign-in settings: local sign-up and OpenID Connect single sign-on (django-allauth), read from
the environment; star-imported at the end of assistant/settings.py. Listed in README.md.

Local accounts keep Django's own login view (/accounts/login/, django-axes in front of it);
allauth serves only the SSO round trip (/accounts/oidc/<OIDC_PROVIDER_ID>/login/ and its
callback) and a few pages that flow needs. The checks on what the provider sends (verified
email, allowed domains, no silent linking) live in assistant/auth/adapters.py.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

from assistant.config import env_bool, env_list, env_secret, env_str, env_url

# Anyone who can reach the site may create a local account at /accounts/signup/. Off by
# default: a team instance usually signs people in through its identity provider, or an
# admin creates accounts.
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", False)

# --- OpenID Connect -------------------------------------------------------------------------
OIDC_ISSUER_URL = env_url("OIDC_ISSUER_URL", schemes=("http", "https"))
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET") or ""
# The button reads "Sign in with <OIDC_NAME>".
OIDC_NAME = env_str("OIDC_NAME", "single sign-on")
# Part of the redirect URI registered at the provider: /accounts/oidc/<id>/login/callback/.
OIDC_PROVIDER_ID = env_str("OIDC_PROVIDER_ID", "sso")
OIDC_SCOPES = env_list("OIDC_SCOPES", ["openid", "profile", "email"])
# Only people whose (verified) email is in one of these domains may sign in; empty: any.
OIDC_ALLOWED_EMAIL_DOMAINS = [
    domain.lower().lstrip("@") for domain in env_list("OIDC_ALLOWED_EMAIL_DOMAINS", [])
]
# Refuse an identity whose email the provider does not mark `email_verified`. Entra ID sends
# no such claim: turn this off there only if the tenant alone controls its users' addresses.
OIDC_REQUIRE_VERIFIED_EMAIL = env_bool("OIDC_REQUIRE_VERIFIED_EMAIL", True)
# A team that a person joins on their first SSO sign-in (assistant/auth/adapters.py
# default_team_join); empty: none.
OIDC_DEFAULT_TEAM = env_str("OIDC_DEFAULT_TEAM", "")

if not re.fullmatch(r"[a-z0-9-]+", OIDC_PROVIDER_ID):
    raise ImproperlyConfigured(
        f"OIDC_PROVIDER_ID={OIDC_PROVIDER_ID!r} must be lowercase letters, digits or '-', e.g. sso."
    )
_oidc_given = [name for name, value in (("OIDC_ISSUER_URL", OIDC_ISSUER_URL),
               ("OIDC_CLIENT_ID", OIDC_CLIENT_ID), ("OIDC_CLIENT_SECRET", OIDC_CLIENT_SECRET))
               if value]  # fmt: skip
if _oidc_given and len(_oidc_given) < 3:
    raise ImproperlyConfigured(
        f"Single sign-on needs OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or "
        f"OIDC_CLIENT_SECRET_FILE); only {', '.join(_oidc_given)} is set."
    )


def oidc_providers(
    *, issuer_url: str | None, client_id: str, secret: str, name: str, provider_id: str,
    scopes: list[str],
) -> dict:  # fmt: skip
    """allauth's SOCIALACCOUNT_PROVIDERS for one OIDC issuer (no app at all when unset)."""
    apps = []
    if issuer_url:
        apps.append(
            {
                "provider_id": provider_id,
                "name": name,
                "client_id": client_id,
                "secret": secret,
                "settings": {"server_url": issuer_url, "oauth_pkce_enabled": True},
            }
        )
    return {
        "openid_connect": {
            "APPS": apps,
            "SCOPE": scopes,
            "OAUTH_PKCE_ENABLED": True,
            # allauth's provider plus the ID token nonce (assistant/auth/oidc.py).
            "provider_class": "assistant.auth.oidc.NonceOpenIDConnectProvider",
        }
    }


SOCIALACCOUNT_PROVIDERS = oidc_providers(
    issuer_url=OIDC_ISSUER_URL,
    client_id=OIDC_CLIENT_ID,
    secret=OIDC_CLIENT_SECRET,
    name=OIDC_NAME,
    provider_id=OIDC_PROVIDER_ID,
    scopes=OIDC_SCOPES,
)

# --- django-allauth -----------------------------------------------------------------------
ACCOUNT_ADAPTER = "assistant.auth.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "assistant.auth.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # allauth sends no mail; the provider verified the email
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = True  # a first SSO sign-in creates the user
# Never sign someone into an existing account because an email matches (see adapters.py).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the button POSTs (CSRF-checked); a GET shows a confirm page
SOCIALACCOUNT_STORE_TOKENS = False  # we need the identity, not the provider's tokens
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
