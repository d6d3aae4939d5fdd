"""The REST API (django-ninja): memories, conversations, connections; /api/openapi.json and
a docs page at /api/docs that works offline under the site's CSP (Swagger UI from
django-ninja's own static files, no CDN).

Authentication is an API token only (`Authorization: Bearer rk_…` or `X-Api-Key`): a
browser session cookie is never accepted, so no request here needs (or can abuse) CSRF.
Each request is counted against the user's (and the token's team's) limits. Every error,
whatever raised it, has the one shape of assistant/api/auth.py:

    {"error": {"type": "...", "code": "...", "message": "..."}}
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from assistant.api.auth import (
    api_error,
    limit_error_response,
    principal_for,
    token_error_response,
)
from assistant.api.rest.access import ApiProblem
from assistant.api.rest.connections import router as connections_router
from assistant.api.rest.conversations import router as conversations_router
from assistant.api.rest.memories import router as memories_router
from assistant.api.tokens import ApiPrincipal, TokenError
from assistant.usage.limits import LimitExceeded, request_admit

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Your memory, conversations and connections, under the same rules as the pages.

Authenticate with a personal API token (Account → API tokens):
`Authorization: Bearer rk_…`. Reads need the `memory:read` scope, changes `memory:write`.
A token with a team scope reaches that team's memory and connections with `space=team`
(members read and propose edits; admins change).

Every error has one shape: `{"error": {"type", "code", "message"}}`. Lists take `limit`
and `offset` and answer `total` and `next`.
"""


def _body_size_check(request: HttpRequest) -> None:
    """413 for a declared body over API_MAX_BODY_BYTES, before anything reads it (an
    import has its own, larger limit: memory_transfer.py)."""
    if request.path.rstrip("/").endswith("/memories/import"):
        return
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > settings.API_MAX_BODY_BYTES:
        raise ApiProblem(
            413,
            "too_large",
            f"The body is over the limit of {settings.API_MAX_BODY_BYTES:,} bytes.",
        )


class TokenAuth(HttpBearer):
    """The bearer token (or X-Api-Key) -> ApiPrincipal; TokenError (401/403) and
    LimitExceeded (429) go to the exception handlers below."""

    openapi_bearerFormat = "rk_<prefix>_<secret>"
    openapi_description = (
        "A personal API token (Account → API tokens), as `Authorization: Bearer rk_…` "
        "(or the `X-Api-Key` header). Browser sessions are not accepted."
    )

    def __call__(self, request: HttpRequest) -> ApiPrincipal:
        principal = principal_for(request)
        request_admit(user=principal.user, team=principal.team)
        _body_size_check(request)
        return principal

    def authenticate(self, request: HttpRequest, token: str) -> ApiPrincipal:
        return self(request)


api = NinjaAPI(
    title="Assistant REST API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="rest",
    auth=TokenAuth(),
    docs=Swagger(settings={"persistAuthorization": False, "tryItOutEnabled": False}),
)


@api.exception_handler(TokenError)
def _token_error(request: HttpRequest, exc: TokenError) -> HttpResponse:
    return token_error_response(exc)


@api.exception_handler(LimitExceeded)
def _limit(request: HttpRequest, exc: LimitExceeded) -> HttpResponse:
    return limit_error_response(exc)


@api.exception_handler(ApiProblem)
def _problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return api_error(exc.status, exc.code, exc.message, **exc.extra)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api_error(404, "not_found", "Not found (or not yours).")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api_error(413, "too_large", "The body is too large.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api_error(403, "forbidden", str(exc) or "You may not do this.")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else "The request is invalid."
    details = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors
    ]
    return api_error(400, "invalid_request", message, details=details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api_error(401, "missing_token", "Send an API token: Authorization: Bearer rk_…")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "invalid_json" if exc.status_code == 400 else "http_error"
    return api_error(exc.status_code, code, str(exc))


@api.exception_handler(Exception)
def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("REST API error on %s %s", request.method, request.path)
    return api_error(500, "internal_error", "Something went wrong on the server.")


api.add_router("/memories", memories_router, tags=["memories"])
api.add_router("/conversations", conversations_router, tags=["conversations"])
api.add_router("/connections", connections_router, tags=["connections"])
