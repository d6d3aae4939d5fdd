"""The REST API through the real ASGI application (as uvicorn serves it): a token request,
an import body, the docs page's own static files."""

from __future__ import annotations

import httpx

from memory.models import MemoryItem
from memory.services import memory_export
from tests.assistant.api.rest_world import token_for
from tests.factories import remember, user_create


def test_the_api_through_asgi(asgi_server):
    user = user_create("olivia", password=None)
    remember(user, "My dog is called Pixel.")
    raw = token_for(user, ["memory:read", "memory:write"])
    auth = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(base_url=asgi_server, timeout=30) as http:
        listed = http.get("/api/memories", headers=auth)
        assert listed.status_code == 200 and listed.json()["total"] == 1
        data = memory_export(owner=user)
        data["items"] = [{"text": "Imported over ASGI.", "kind": "fact"}]
        imported = http.post("/api/memories/import", headers=auth, json=data)
        assert imported.status_code == 200, imported.text
        assert imported.json()["added"] == 1
        assert http.get("/api/memories").json()["error"]["code"] == "missing_token"
        docs = http.get("/api/docs")
        assert docs.status_code == 200
        assert http.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert MemoryItem.objects.filter(owner=user, text="Imported over ASGI.").exists()
