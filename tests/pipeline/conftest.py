"""Fixtures for the background pipeline: conversations with history and a scripted model
that answers the summary, extraction and judge prompts differently."""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.models import Conversation, Message
from memory.consolidation.extract import EXTRACTION_SYSTEM
from memory.consolidation.reconcile import JUDGE_SYSTEM
from memory.consolidation.summarise import SUMMARY_SYSTEM
from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at

SUMMARY = "The user and the assistant compared kitchen tiles and decided on green zellige."


def memories_json(*items: dict) -> str:
    return json.dumps({"memories": list(items)})


def memory(text: str, *, kind="fact", message=1, quote="", confidence=0.9) -> dict:
    return {"text": text, "kind": kind, "message": message, "quote": quote,
            "confidence": confidence}  # fmt: skip


class PipelineModel:
    """A responder for ScriptedBackend: each prompt kind has its own queue of replies,
    falling back to a default. `calls` lists the kinds in arrival order."""

    def __init__(self, *, summary=SUMMARY, memories: tuple = (), relation="different"):
        self.replies = {"summary": deque(), "extract": deque(), "judge": deque()}
        self.defaults = {
            "summary": summary,
            "extract": memories_json(*memories),
            "judge": json.dumps({"relation": relation}),
        }
        self.calls: list[str] = []
        self.requests: dict[str, list[dict]] = {"summary": [], "extract": [], "judge": []}
        self.arrived = threading.Event()  # set on every request (crash tests wait on it)

    def queue(self, kind: str, *replies) -> PipelineModel:
        self.replies[kind].extend(replies)
        return self

    @staticmethod
    def kind_of(request: dict) -> str:
        system = request["messages"][0]["content"]
        return {SUMMARY_SYSTEM: "summary", EXTRACTION_SYSTEM: "extract", JUDGE_SYSTEM: "judge"}[
            system
        ]

    def __call__(self, request: dict):
        kind = self.kind_of(request)
        self.calls.append(kind)
        self.requests[kind].append(request)
        self.arrived.set()
        queue = self.replies[kind]
        return queue.popleft() if queue else self.defaults[kind]


@pytest.fixture
def model(settings):
    """The pipeline's scripted model server (every profile points at it)."""
    responder = PipelineModel()
    with ScriptedBackend(responder=responder) as server:
        point_profiles_at(settings, server.base_url)
        responder.server = server
        yield responder


def say(conversation: Conversation, role: str, content: str, *, at=None, **fields) -> Message:
    message = Message.objects.create(
        conversation=conversation, role=role, content=content, **fields
    )
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.created_at = at
    return message


def chat(owner, turns: list[str], *, days_ago: float = 1, title="Kitchen", **fields):
    """A conversation of alternating user/assistant turns, `days_ago` old."""
    conversation = Conversation.objects.create(owner=owner, title=title, **fields)
    start = timezone.now() - timedelta(days=days_ago)
    for index, text in enumerate(turns):
        role = "user" if index % 2 == 0 else "assistant"
        say(conversation, role, text, at=start + timedelta(minutes=index))
    return conversation


KITCHEN = [
    "I'm redoing my kitchen and can't choose between white subway tiles and green zellige.",
    "Green zellige gives a warmer, handmade look; subway tiles are cheaper and timeless.",
    "Let's go with the green zellige. I'm vegetarian, by the way, so I cook a lot.",
    "Good choice: zellige suits a kitchen that sees a lot of cooking.",
]
