"""Token authentication for the API views (REST, OpenAI-compatible, MCP), and the one
shape every API error has:

    {"error": {"type": "...", "code": "...", "message": "..."}}

(the OpenAI error shape, so OpenAI clients show the message as is).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from assistant.api.tokens import ApiPrincipal, TokenError, token_authenticate
from assistant.usage.limits import LimitExceeded

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
}


def api_error(status: int, code: str, message: str, **extra) -> JsonResponse:
    body = {"type": ERROR_TYPES.get(status, "api_error"), "code": code, "message": message}
    response = JsonResponse({"error": {**body, **extra}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def token_error_response(error: TokenError) -> JsonResponse:
    return api_error(error.status, error.code, error.message)


def limit_error_response(error: LimitExceeded) -> JsonResponse:
    response = api_error(
        429,
        f"{error.who}_{error.kind}_exceeded",
        error.message,
        limit=error.limit,
        reset_at=error.reset_at.isoformat(),
    )
    response["Retry-After"] = str(error.retry_after)
    return response


def bearer_token(request: HttpRequest) -> str:
    """The raw token of `Authorization: Bearer …` (or `X-Api-Key`), '' when absent."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-Api-Key", "").strip()


def principal_for(request: HttpRequest) -> ApiPrincipal:
    """The request's principal (TokenError when its token is missing or unusable)."""
    return token_authenticate(raw=bearer_token(request))
