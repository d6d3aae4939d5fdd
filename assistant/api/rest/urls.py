"""The REST API's URLs (assistant/api/rest/api.py), at /api/: its routes, openapi.json and
docs; a method a route does not take answers 405 and an unknown path 404, both in the
API's one error shape (ninja and Django would answer those in plain text or HTML)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.views.decorators.csrf import csrf_exempt

from assistant.api.auth import api_error
from assistant.api.rest.api import api

app_name = "rest"


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            refused = api_error(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed}.",
            )
            refused["Allow"] = allowed
            return refused
        return response

    return wrapped


def api_root(request: HttpRequest) -> HttpResponse:
    """/api/: where the docs and the schema are (ninja's own answers a bare 404)."""
    return JsonResponse(
        {
            "name": api.title,
            "version": api.version,
            "docs": reverse("rest:openapi-view"),
            "openapi": reverse("rest:openapi-json"),
        }
    )


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    return api_error(404, "not_found", f"There is no API route /api/{rest}.")


def _patterns() -> list[URLPattern | URLResolver]:
    found: list[URLPattern | URLResolver] = []
    for entry in api.urls[0]:
        if isinstance(entry, URLPattern):
            # ninja finds the API's base path by reversing its root: keep the name.
            view = api_root if entry.name == "api-root" else _json_405(entry.callback)
            entry = path(str(entry.pattern), view, name=entry.name)
        found.append(entry)
    return found


urlpatterns = [*_patterns(), path("<path:rest>", not_found, name="not-found")]
