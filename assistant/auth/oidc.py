"""allauth's OpenID Connect provider, plus the ID token's nonce (allauth 65 sends none).

The sign-in redirect carries a fresh random `nonce`, kept in the sign-in's stashed state
(the session, beside `state`); the callback's ID token must carry the same value
(SocialAccountAdapter.pre_social_login checks it with `nonce_matches`), so an ID token
minted for another sign-in, or replayed, signs nobody in. Selected by
SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"] (assistant/settings_auth.py).
"""

from __future__ import annotations

import hmac
import secrets

from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest

NONCE_KEY = "nonce"


class NonceOpenIDConnectProvider(OpenIDConnectProvider):
    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(self.get_auth_params() if auth_params is None else auth_params)
        auth_params[NONCE_KEY] = nonce
        # Extra keyword arguments are stashed in the sign-in's state (allauth's
        # Provider.stash_redirect_state), which the callback gets back as sociallogin.state.
        kwargs[NONCE_KEY] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kwargs)


def nonce_matches(sociallogin: SocialLogin) -> bool:
    """Whether the ID token carries the nonce this browser's sign-in sent."""
    expected = sociallogin.state.get(NONCE_KEY)
    claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
    received = claims.get(NONCE_KEY) if isinstance(claims, dict) else None
    if not isinstance(expected, str) or not isinstance(received, str):
        return False
    return hmac.compare_digest(expected.encode(), received.encode())
