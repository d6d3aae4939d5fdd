"""Drive /v1/ in-process (django.test.AsyncClient, the real async views) for the
OpenAI-compatible endpoint's tests; the `openai` SDK tests use a live server instead."""

from __future__ import annotations

import json
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.test import AsyncClient

from assistant.api.tokens import token_create

URL = "/v1/chat/completions"


def api_token(user, scopes=("chat",), team=None) -> str:
    return token_create(user=user, name="client", scopes=list(scopes), team=team)[1]


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def error(self) -> dict:
        return self.json()["error"]

    def events(self) -> list:
        """The SSE `data:` payloads, parsed ("[DONE]" kept as a string)."""
        out = []
        for block in self.body.decode().split("\n\n"):
            for line in block.split("\n"):
                if line.startswith("data: "):
                    data = line[6:]
                    out.append(data if data == "[DONE]" else json.loads(data))
        return out


def call(
    raw: str | None,
    body=None,
    *,
    method: str = "post",
    path: str = URL,
    headers: dict | None = None,
    data: bytes | None = None,
) -> Reply:
    """One request; `body` as JSON (or `data` as raw bytes); the whole reply read."""

    async def run() -> Reply:
        client = AsyncClient()
        sent = dict(headers or {})
        if raw is not None:
            sent["Authorization"] = f"Bearer {raw}"
        if method == "get":
            response = await client.get(path, headers=sent)
        else:
            payload = data if data is not None else json.dumps(body).encode()
            response = await client.post(
                path, data=payload, content_type="application/json", headers=sent
            )
        if response.streaming:
            content = b"".join([chunk async for chunk in response.streaming_content])
        else:
            content = response.content
        return Reply(response.status_code, dict(response.headers), content)

    return async_to_sync(run)()


def chat(raw: str, messages, *, model: str = "fast", **fields) -> Reply:
    return call(raw, {"model": model, "messages": messages, **fields})


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict:
    return {"role": "assistant", "content": text}
