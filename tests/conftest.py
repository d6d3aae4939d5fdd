"""Shared fixtures: personas (owner, outsider), scripted model backends, a live ASGI server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from django.conf import settings as django_settings

from connectors import hooks
from inference.local_server import free_port
from scripted_backend import ScriptedBackend
from tests.factories import user_create


@pytest.fixture
def owner(db):
    return user_create("olivia", password="correct-horse-1")


@pytest.fixture
def outsider(db):
    return user_create("mallory", password="correct-horse-2")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


def point_profiles_at(settings, base_url: str, **overrides) -> None:
    """Make every model profile use `base_url` (pytest-django restores settings after)."""
    profiles = {}
    for key, profile in django_settings.MODEL_PROFILES.items():
        profiles[key] = {**profile, "base_url": base_url, "model": f"scripted-{key}", **overrides}
    settings.MODEL_PROFILES = profiles


@pytest.fixture
def backend(settings):
    """A scripted OpenAI-compatible server on loopback, wired into every profile."""
    with ScriptedBackend() as server:
        point_profiles_at(settings, server.base_url)
        yield server


@pytest.fixture
def dead_backend_url(settings) -> str:
    """A URL where nothing listens: connection refused."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    point_profiles_at(settings, url)
    return url


@contextmanager
def serve_asgi(application) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def asgi_server(transactional_db):
    """Serve the Django ASGI app (streaming included) on a loopback port."""
    from assistant.asgi import application

    with serve_asgi(application) as url:
        yield url


@pytest.fixture
def syncs():
    """Record the connector syncs started (in place of the background home's enqueue)."""
    started, previous = [], hooks._enqueue
    hooks.sync_enqueue_register(lambda *, connection: started.append(connection.pk))
    yield started
    hooks._enqueue = previous
