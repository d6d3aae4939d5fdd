"""Synthetic multi-turn conversations for bench_pipeline: each plants a few facts about the
user (with a keyword to look for in what gets extracted) between ordinary questions."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from assistant.models import Conversation, Message

# (what the user says, the keyword an extracted memory should contain)
FACTS = [
    ("I'm vegetarian, so please keep recipe ideas meat-free.", "vegetarian"),
    ("I moved to Lisbon last spring for work.", "lisbon"),
    ("I'm planning a trip to Japan in May with my partner.", "japan"),
    ("Always answer me in British English, please.", "british"),
    ("My sister Ada is getting married in September.", "ada"),
    ("I prefer meetings in the morning, before 11.", "morning"),
    ("I'm training for a half marathon in October.", "marathon"),
    ("I work as a marine biologist at the aquarium.", "biologist"),
    ("I'm allergic to peanuts, it's quite serious.", "peanut"),
    ("I drink coffee, never tea.", "coffee"),
    ("I'm learning Portuguese for an hour every evening.", "portuguese"),
    ("Please keep answers short; bullet points are best for me.", "short"),
]
QUESTIONS = [
    "Can you suggest something for dinner tonight?",
    "What's a good way to plan my week?",
    "How should I prepare for a long flight?",
    "Any tips for staying focused in the afternoon?",
    "What should I pack for a rainy weekend?",
    "How do I keep a small balcony garden alive?",
]
REPLIES = [
    "Here are a few ideas. Start with something simple you already enjoy, keep the steps "
    "small, and check in with yourself after a few days to see what works. If you want, I "
    "can turn this into a short plan with concrete times and a checklist.",
    "Good question. Most people find it easiest to pick one priority a day, block time for "
    "it early, and leave buffers between tasks. Tell me more about your constraints and I "
    "will tailor the suggestions.",
    "Noted, thanks for telling me. I'll keep that in mind for my suggestions from now on. "
    "Is there anything else about it I should know, such as dates or people involved?",
]


@dataclass(frozen=True)
class PlantedConversation:
    conversation: Conversation
    keywords: tuple[str, ...]


def conversations_create(*, owner, count: int, seed: int = 7) -> list[PlantedConversation]:
    """`count` conversations of 8 messages (4 user turns, two of them with a fact), idle
    since an hour ago, so the pipeline would pick them up."""
    rng = random.Random(seed)
    planted = []
    start = timezone.now() - timedelta(hours=1, minutes=count * 10)
    for index in range(count):
        facts = rng.sample(FACTS, 2)
        questions = rng.sample(QUESTIONS, 2)
        user_turns = [questions[0], facts[0][0], questions[1], facts[1][0]]
        conversation = Conversation.objects.create(owner=owner, title=f"Bench chat {index + 1}")
        at = start + timedelta(minutes=index * 10)
        rows = []
        for text in user_turns:
            rows.append(Message(conversation=conversation, role="user", content=text))
            reply = REPLIES[2] if text in dict(facts) else rng.choice(REPLIES[:2])
            rows.append(Message(conversation=conversation, role="assistant", content=reply))
        Message.objects.bulk_create(rows)
        for offset, row in enumerate(rows):
            Message.objects.filter(pk=row.pk).update(created_at=at + timedelta(minutes=offset))
        planted.append(PlantedConversation(conversation, tuple(keyword for _, keyword in facts)))
    return planted


def long_conversation_create(*, owner, turns: int = 40) -> Conversation:
    """A long chat for the turn-overhead measurement: its early turns no longer fit."""
    conversation = Conversation.objects.create(owner=owner, title="Bench long chat")
    rows = []
    for index in range(turns):
        role = "user" if index % 2 == 0 else "assistant"
        text = QUESTIONS[index % len(QUESTIONS)] if role == "user" else REPLIES[index % 2]
        rows.append(Message(conversation=conversation, role=role, content=f"{index}: {text}"))
    Message.objects.bulk_create(rows)
    return conversation
