"""Answer health probes before host validation and the HTTPS redirect.

The probes call /healthz from inside the container (deploy/healthcheck.py) or from the kubelet
(deploy/k8s). Behind a TLS proxy the deployment sets ALLOWED_HOSTS to its public name and
SECURE_SSL_REDIRECT=true, which would answer a probe with 400 or 301. This middleware sits first
and replies before either runs.

- `GET /healthz` (readiness): the database answers `SELECT 1` and Redis answers `PING`.
  200 {"status": "ok", "database": "ok", "redis": "ok"}, or 503 with "fail" next to what failed
  (the reason goes to the log, never into the response).
- `GET /healthz?live=1` (liveness): the process answers; nothing else is touched, so a database
  or Redis outage takes pods out of the Service without restarting every one of them.
"""

from __future__ import annotations

import logging
from functools import cache

import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from assistant import embedded

HEALTHZ_PATH = "/healthz"
# Each dependency gets this long; the probes' timeoutSeconds in deploy/k8s leave room for both.
CHECK_TIMEOUT_S = 2.0

logger = logging.getLogger(__name__)


def _is_probe(request: HttpRequest) -> bool:
    return request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD")


def _is_liveness(request: HttpRequest) -> bool:
    return request.GET.get("live", "") not in ("", "0")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as error:
        logger.warning("Health check: the database did not answer: %s", error)
        return False


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S
    )


def _redis_url() -> str:
    url = settings.REDIS_URL or embedded.redis_url(settings.DATA_DIR)
    # Celery's unix-socket scheme; redis-py spells it unix://.
    return url.replace("redis+socket://", "unix://", 1)


def _redis_ok() -> bool:
    try:
        return bool(_redis_client(_redis_url()).ping())
    except Exception as error:
        logger.warning("Health check: Redis did not answer: %s", error)
        return False


def readiness() -> tuple[int, dict[str, str]]:
    """(status code, body) of the full check: database and Redis."""
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "fail"}
    body.update({name: "ok" if ok else "fail" for name, ok in checks.items()})
    return (200 if healthy else 503), body


def _live() -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _ready() -> HttpResponse:
    status, body = readiness()
    return JsonResponse(body, status=status)


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
        if not _is_probe(request):
            return self.get_response(request)
        return _live() if _is_liveness(request) else _ready()

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if not _is_probe(request):
            return await self.get_response(request)
        if _is_liveness(request):
            return _live()
        # One hop for both checks: the ORM's connection belongs to a sync thread.
        return await sync_to_async(_ready)()
