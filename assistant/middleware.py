"""Answer the container health probe before host validation and the HTTPS redirect.

The probe (deploy/healthcheck.py) calls http://127.0.0.1:8000/healthz from inside the
container. Behind a TLS proxy the deployment sets ALLOWED_HOSTS to its public name and
SECURE_SSL_REDIRECT=true, which would answer the probe with 400 or 301. This middleware sits
first and replies before either runs; it reveals nothing but "ok".
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTHZ_PATH = "/healthz"


def _healthz(request: HttpRequest) -> HttpResponse | None:
    if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
        return JsonResponse({"status": "ok"})
    return None


class HealthzMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        return _healthz(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return _healthz(request) or await self.get_response(request)
