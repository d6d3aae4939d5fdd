"""The REST API's edges: the one error shape on 400, 401, 403, 404, 405, 429 and 500; a
browser session is no authentication (so CSRF cannot be abused); the OpenAPI document is
valid and documents the bearer scheme; the docs page works offline."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from assistant.api.models import ApiToken
from assistant.api.rest.api import api
from assistant.api.tokens import token_create
from memory.models import MemoryItem
from tests.assistant.api.rest_world import assert_error, call, token_for
from tests.factories import remember, user_create
from tests.pipeline.worker import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return user_create("olivia", password=None)


@pytest.fixture
def raw(user):
    return token_for(user, ["memory:read", "memory:write"])


def test_the_openapi_schema_is_valid_and_documents_the_bearer_token():
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    validate(schema)
    schemes = schema["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    assert schema["info"]["version"] == "1"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), (method, path)
            assert "401" in operation["responses"], (method, path)


def test_openapi_json_is_served_without_a_token(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/memories" in response.json()["paths"]


def test_the_docs_page_uses_local_assets_only(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui-bundle.js" in page and "/static/ninja/" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui.css")
    # The site's CSP stands: scripts from this site only (no inline script runs).
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_missing_malformed_and_unknown_tokens_are_401(client):
    assert_error(call(client, "get", "/api/memories"), 401, "missing_token")
    assert_error(call(client, "get", "/api/memories", "not-a-token"), 401, "invalid_token")
    assert_error(call(client, "get", "/api/memories", "rk_deadbeef_nope"), 401, "invalid_token")
    response = call(client, "get", "/api/memories", Authorization="Basic dXNlcjpwYXNz")
    assert_error(response, 401, "missing_token")


def test_x_api_key_works_too(client, raw):
    response = call(client, "get", "/api/memories", **{"X-Api-Key": raw})
    assert response.status_code == 200


def test_a_browser_session_is_not_authentication(client, user):
    """Signed in, without a token: 401, and a POST changes nothing (no CSRF to abuse)."""
    client.force_login(user)
    assert_error(client.get("/api/memories"), 401, "missing_token")
    response = client.post(
        "/api/memories", data={"text": "injected"}, content_type="application/json"
    )
    assert_error(response, 401, "missing_token")
    assert not MemoryItem.objects.filter(text="injected").exists()


def test_a_token_request_needs_no_csrf_token(user, raw):
    strict = Client(enforce_csrf_checks=True)
    response = call(strict, "post", "/api/memories", raw, {"text": "Tokens need no CSRF."})
    assert response.status_code == 201


def test_invalid_json_is_400(client, raw):
    response = call(client, "post", "/api/memories", raw, "{not json")
    assert_error(response, 400)
    assert not MemoryItem.objects.exists()


def test_a_validation_error_is_400_and_names_the_field(client, raw):
    response = call(client, "post", "/api/memories", raw, {"text": "x", "kind": "gossip"})
    error = assert_error(response, 400, "invalid_request")
    assert "kind" in error["message"]
    assert error["details"][0]["loc"][-1] == "kind"
    assert_error(call(client, "get", "/api/memories?limit=1000", raw), 400, "invalid_request")
    assert_error(call(client, "get", "/api/memories?space=moon", raw), 400, "invalid_request")
    assert_error(call(client, "get", "/api/memories/search", raw), 400, "invalid_request")


def test_unknown_paths_and_objects_are_404(client, raw):
    assert_error(call(client, "get", "/api/nothing/here", raw), 404, "not_found")
    assert_error(call(client, "post", "/api/memories/", raw), 404, "not_found")
    assert_error(call(client, "get", "/api/memories/999999", raw), 404, "not_found")


def test_an_oversized_body_is_413(client, raw, settings):
    settings.API_MAX_BODY_BYTES = 2048
    response = call(client, "post", "/api/memories", raw, {"text": "x" * 3000})
    assert_error(response, 413, "too_large")
    assert not MemoryItem.objects.exists()


def test_a_method_a_route_does_not_take_is_405(client, raw, user):
    item = remember(user, "Tea, no sugar.")
    response = call(client, "put", f"/api/memories/{item.pk}", raw, {"text": "x"})
    assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert_error(call(client, "delete", "/api/memories", raw), 405, "method_not_allowed")


def test_a_server_error_is_500_in_the_same_shape(client, raw, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("assistant.api.rest.memories.selectors.memory_list", explode)
    error = assert_error(call(client, "get", "/api/memories", raw), 500, "internal_error")
    assert "boom" not in error["message"]


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


def test_the_request_limit_is_429_with_when_it_resets(client, raw, settings, redis_server):
    redis_server.flush()
    settings.REDIS_URL = redis_server.url
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 2
    statuses, refused = [], None
    for _ in range(6):  # a minute boundary may pass once meanwhile
        response = call(client, "get", "/api/memories", raw)
        statuses.append(response.status_code)
        if response.status_code == 429:
            refused = response
            break
    assert refused is not None, statuses
    error = assert_error(refused, 429, "user_requests_per_minute_exceeded")
    assert error["reset_at"] and 0 < int(refused["Retry-After"]) <= 60


def test_an_inactive_user_token_is_401(client, raw, user):
    user.is_active = False
    user.save()
    assert_error(call(client, "get", "/api/memories", raw), 401, "inactive_user")


def test_an_expired_token_is_401(client, user):
    token, raw = token_create(user=user, name="old", scopes=["memory:read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(call(client, "get", "/api/memories", raw), 401, "expired_token")


def test_writing_directly_includes_writing(client, user):
    raw = token_for(user, ["memory:write:direct"])
    assert call(client, "post", "/api/memories", raw, {"text": "Direct."}).status_code == 201
    assert_error(call(client, "get", "/api/memories", raw), 403, "insufficient_scope")
