"""Closing answers whose producer is gone, so none stays open forever.

A streaming answer writes `heartbeat_at` with every flush (about twice a second, also
while it waits for the first token). One whose heartbeat is older than
CHAT_STREAM_STALE_S lost its process (crash, restart, a failure nothing caught); a
pending one that old was never picked up (the page closed before it connected). Beat
closes both as failed, keeping the partial answer; live answers on other web replicas
keep beating and are left alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from assistant.models import Message

STALE_STREAMING = "The server stopped writing this answer (no progress for {seconds} s)."
STALE_PENDING = "The answer never started: the page closed before it connected."


def _cutoff():
    return timezone.now() - timedelta(seconds=settings.CHAT_STREAM_STALE_S)


def stale_streaming_q() -> Q:
    cutoff = _cutoff()
    return Q(status=Message.Status.STREAMING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )


def answers_close_stale(*, messages: QuerySet[Message] | None = None) -> int:
    """Close stale open answers (all, or among `messages`); returns how many."""
    rows = Message.objects.all() if messages is None else messages
    rows = rows.filter(role=Message.Role.ASSISTANT)
    now = timezone.now()
    closed = rows.filter(stale_streaming_q()).update(
        status=Message.Status.ERROR,
        error=STALE_STREAMING.format(seconds=settings.CHAT_STREAM_STALE_S),
        finished_at=now,
    )
    closed += rows.filter(status=Message.Status.PENDING, created_at__lt=_cutoff()).update(
        status=Message.Status.ERROR, error=STALE_PENDING, finished_at=now
    )
    return closed
