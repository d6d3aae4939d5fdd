"""The stock middleware run inline under ASGI (assistant/middleware_inline.py) still do
their jobs there: sign-in saves the session, a forged POST is refused, a flash message
survives its redirect, the security headers are set. And a page costs few thread hops."""

from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.contrib.sessions.models import Session
from django.test import AsyncClient
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _run(coroutine_function):
    return async_to_sync(coroutine_function)()


def test_signing_in_over_asgi_saves_the_session(owner):
    async def run():
        client = AsyncClient(enforce_csrf_checks=True)
        page = await client.get("/accounts/login/")
        token = page.cookies["csrftoken"].value
        signed_in = await client.post(
            "/accounts/login/",
            {"username": owner.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        home = await client.get("/")
        return signed_in, home

    signed_in, home = _run(run)
    assert signed_in.status_code == 302
    assert home.status_code == 200
    assert Session.objects.count() == 1


def test_a_post_without_the_csrf_token_is_refused_over_asgi(owner):
    async def run():
        client = AsyncClient(enforce_csrf_checks=True)
        await client.aforce_login(owner)
        return await client.post(reverse("teams:create"), {"name": "Forged"})

    assert _run(run).status_code == 403
    assert not owner.team_memberships.exists()


def test_a_flash_message_survives_its_redirect_over_asgi(owner):
    async def run():
        client = AsyncClient()
        await client.aforce_login(owner)
        created = await client.post(reverse("teams:create"), {"name": "Ops"})
        shown = await client.get(created["Location"])
        again = await client.get(created["Location"])
        return created, shown, again

    created, shown, again = _run(run)
    assert created.status_code == 302
    assert "Team Ops created" in shown.content.decode()
    assert "Team Ops created" not in again.content.decode()  # shown once, then gone


def test_the_security_headers_are_set_over_asgi(owner):
    async def run():
        client = AsyncClient()
        await client.aforce_login(owner)
        return await client.get("/")

    response = _run(run)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src" in response["Content-Security-Policy"]
    assert "Cookie" in response["Vary"]


def test_a_page_costs_few_thread_hops(owner, monkeypatch):
    hops: list[str] = []
    real_call = SyncToAsync.__call__

    async def call(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", None) or type(self.func).__name__)
        return await real_call(self, *args, **kwargs)

    async def run():
        client = AsyncClient()
        await client.aforce_login(owner)
        monkeypatch.setattr(SyncToAsync, "__call__", call)
        return await client.get(reverse("memory:index"))

    assert _run(run).status_code == 200
    # The request_started signal and the sync view: no middleware hook of its own (was 17).
    assert len(hops) <= 3, hops


def test_the_deploy_check_sees_the_inline_middleware_and_their_absence(settings):
    from assistant.checks import security_middleware_installed

    assert security_middleware_installed(None) == []
    settings.MIDDLEWARE = [
        path
        for path in settings.MIDDLEWARE
        if not path.endswith(("SecurityMiddleware", "CsrfViewMiddleware"))
    ]
    warnings = security_middleware_installed(None)
    assert {warning.id for warning in warnings} == {"assistant.W001", "assistant.W003"}
