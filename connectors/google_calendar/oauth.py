"""Google's OAuth 2.0 web flow (authorization code with PKCE) and token upkeep.

The consent step goes through google_auth_oauthlib's Flow; the state and the PKCE
code_verifier wait in the user's session until Google redirects back. Access tokens
last an hour: `credentials_build` turns the Session's secrets into google-auth
Credentials, which refresh themselves during API calls (api.py records the new token
with `credentials_secrets`; the caller saves the secrets, encrypted).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow  # type: ignore[import-untyped]

from connectors.base import PermanentError, Session, TransientError

SESSION_KEY = "connectors_google_oauth"
READONLY = "https://www.googleapis.com/auth/calendar.readonly"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
SCOPES = [READONLY, EVENTS]
RECONNECT_HINT = "Reconnect the calendar to give this server access again."


def _client_config() -> dict[str, Any]:
    return {
        "web": {
            "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
            "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET,
            "auth_uri": settings.GOOGLE_OAUTH_AUTH_URI,
            "token_uri": settings.GOOGLE_OAUTH_TOKEN_URI,
        }
    }


def _allow_local_http() -> None:
    """oauthlib refuses http:// token endpoints; the tests' fake Google is one."""
    if settings.GOOGLE_OAUTH_TOKEN_URI.startswith("http://127.0.0.1"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    # Google may grant fewer scopes than asked (the user unticks "edit events"): take
    # what was granted and say so, instead of oauthlib's "Scope has changed" exception.
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")


def _flow(redirect_uri: str, scopes: list[str], **kwargs: Any) -> Flow:
    _allow_local_http()
    return Flow.from_client_config(
        _client_config(), scopes=scopes, redirect_uri=redirect_uri, **kwargs
    )


def consent_start(*, redirect_uri: str, scopes: list[str] = SCOPES) -> tuple[str, dict[str, str]]:
    """Google's consent URL, and what the session keeps for the callback. Every Google
    kind (Calendar, Drive) goes through here, each with its own scopes."""
    flow = _flow(redirect_uri, scopes, autogenerate_code_verifier=True)
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    return url, {"state": state, "code_verifier": flow.code_verifier or ""}


def code_exchange(
    *, redirect_uri: str, code: str, kept: dict[str, str], scopes: list[str] = SCOPES
) -> dict[str, Any]:
    """Trade the code Google sent back for tokens; returns the secrets to store. Refused
    unless Google granted at least one of `scopes`."""
    flow = _flow(redirect_uri, scopes, state=kept["state"], code_verifier=kept["code_verifier"])
    try:
        flow.fetch_token(code=code, timeout=settings.CONNECTOR_HTTP_TIMEOUT_S)
    except requests.exceptions.RequestException as error:
        raise TransientError(f"Google could not be reached ({error}); try again.") from error
    except Exception as error:  # oauthlib raises its own errors for an error reply
        description = getattr(error, "description", "") or str(error)
        raise PermanentError(
            f"Google did not accept the sign-in ({description}).",
            hint="Start again from the connections page.",
        ) from error
    credentials = flow.credentials
    if not credentials.refresh_token:
        raise PermanentError(
            "Google did not grant offline access, so nothing could be kept in sync.",
            hint="Start again and accept all the requested permissions.",
        )
    granted = flow.oauth2session.token.get("scope") or scopes
    granted = granted.split() if isinstance(granted, str) else list(granted)
    if not set(scopes) & set(granted):
        what = "calendars" if scopes == SCOPES else "files"
        raise PermanentError(
            f"Google did not grant access to your {what}.",
            hint=f"Start again and allow this server to see your {what}.",
        )
    return credentials_secrets(credentials) | {"scopes": granted}


def credentials_secrets(credentials: Credentials) -> dict[str, Any]:
    """What the Session keeps of `credentials` (the caller saves it, encrypted)."""
    expiry = credentials.expiry  # naive UTC, as google-auth keeps it
    return {
        "token": credentials.token,
        "refresh_token": credentials.refresh_token,
        "expiry": expiry.replace(tzinfo=UTC).isoformat() if expiry else "",
    }


def credentials_build(session: Session) -> Credentials:
    """Credentials from the Session's secrets. A token without a known expiry is left
    out, so google-auth refreshes it before the first call instead of trusting it."""
    secrets = session.secrets
    expiry = None
    if secrets.get("token") and secrets.get("expiry"):
        expiry = datetime.fromisoformat(secrets["expiry"]).astimezone(UTC).replace(tzinfo=None)
    return Credentials(
        token=secrets["token"] if expiry else None,
        expiry=expiry,
        refresh_token=secrets.get("refresh_token"),
        token_uri=settings.GOOGLE_OAUTH_TOKEN_URI,
        client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
        client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
    )


def refresh_failure(
    error: RefreshError, *, hint: str = RECONNECT_HINT
) -> PermanentError | TransientError:
    """What a failed refresh means for the connection: revoked, misconfigured, or later."""
    details = error.args[1] if len(error.args) > 1 else {}
    code = details.get("error", "") if isinstance(details, dict) else ""
    if code == "invalid_grant" or "invalid_grant" in str(error):
        return PermanentError(
            "Google access was revoked (or expired), so this connection cannot sync.",
            hint=hint,
            status=400,
        )
    if code in ("invalid_client", "unauthorized_client"):
        return PermanentError(
            f"Google refused this server's OAuth client ({code}).",
            hint="Check GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET.",
        )
    return TransientError(f"Google could not refresh the access ({error}).")


def token_revoke(session: Session) -> None:
    """Tell Google to forget the grant. Disconnecting removes the rows whatever this says;
    an error here only tells the user to remove the access on Google's side."""
    token = session.secrets.get("refresh_token") or session.secrets.get("token")
    if not token:
        return
    try:
        response = requests.post(
            settings.GOOGLE_OAUTH_REVOKE_URI,
            data={"token": token},
            timeout=settings.CONNECTOR_HTTP_TIMEOUT_S,
        )
    except requests.exceptions.RequestException as error:
        raise TransientError(f"Google could not be reached to revoke access ({error})") from error
    if response.status_code >= 500:  # 400 means the grant is already gone: fine
        raise TransientError(f"Google did not revoke the access (HTTP {response.status_code})")
