"""A connection's sync claim, and the "sync again" request that rides on it.

One worker at a time syncs a connection: it takes the claim with one conditional UPDATE
(never check-then-act) and frees it when it ends. A change that arrives while a worker
holds the claim (an upload, a re-index, "sync now") may come after that sync listed the
folder, so it is written down on the connection row (the `sync_again_at` key of its
config, set only while the claim is held) and the holder queues one more sync when it
ends. Several requests during one sync are the same key: one follow-up. Taking the claim
clears the key (a sync that starts now lists everything asked for before), so a request
never outlives the sync it was made during, and a follow-up that nobody asked again
during ends the chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Func, JSONField, Q, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from connectors.models import Connection

AGAIN_KEY = "sync_again_at"  # in Connection.config: asked to sync again while claimed


def claim_ttl() -> timedelta:
    return timedelta(seconds=settings.CONNECTOR_SYNC_CLAIM_TTL_S)


def _config_without_again() -> Func:
    """config - 'sync_again_at' (jsonb), in the UPDATE itself."""
    return Func(
        F("config"),
        Cast(Value(AGAIN_KEY), TextField()),
        template="(%(expressions)s)",
        arg_joiner=" - ",
        output_field=JSONField(),
    )


def _config_with_again(now: datetime) -> Func:
    """config || {"sync_again_at": now} (jsonb), in the UPDATE itself."""
    return Func(
        F("config"),
        Value({AGAIN_KEY: now.isoformat()}, output_field=JSONField()),
        template="(%(expressions)s)",
        arg_joiner=" || ",
        output_field=JSONField(),
    )


def _held(now: datetime) -> Q:
    return Q(sync_claimed_until__gte=now) & ~Q(sync_claimed_by="")


def connection_claim(*, connection_id: int, token: str, now: datetime | None = None) -> bool:
    """Take the connection for one sync: one conditional UPDATE, never check-then-act.
    It clears any earlier request to sync again: this sync lists everything from here."""
    now = now or timezone.now()
    free = (
        Q(sync_claimed_until__isnull=True)
        | Q(sync_claimed_until__lt=now)
        | Q(sync_claimed_by=token)  # the same task, redelivered after a crash or retried
    )
    claimed = Connection.objects.filter(free, pk=connection_id).update(
        sync_claimed_until=now + claim_ttl(),
        sync_claimed_by=token[:64],
        config=_config_without_again(),
    )
    return claimed == 1


def connection_claim_release(*, connection_id: int, token: str) -> None:
    """Free the claim, dropping any request to sync again (an ending that is not a success:
    a retry lists again anyway, and a failure should not start more syncs)."""
    Connection.objects.filter(pk=connection_id, sync_claimed_by=token[:64]).update(
        sync_claimed_until=None, sync_claimed_by="", config=_config_without_again()
    )


def sync_again_ask(*, connection_id: int, now: datetime | None = None) -> bool:
    """Ask the worker that holds the claim to sync once more when it ends. False when no
    claim is held (the caller's own run, or the next one, lists everything)."""
    now = now or timezone.now()
    asked = Connection.objects.filter(_held(now), pk=connection_id).update(
        config=_config_with_again(now)
    )
    return asked == 1


def connection_claim_release_asked(*, connection_id: int, token: str) -> bool:
    """Free the claim; True when someone asked to sync again while it was held. Call it
    inside transaction.atomic() with the follow-up's enqueue, so the two commit together."""
    row = (
        Connection.objects.select_for_update()
        .filter(pk=connection_id, sync_claimed_by=token[:64])
        .values("config")
        .first()
    )
    if row is None:  # it expired and another worker took it, listing everything since
        return False
    connection_claim_release(connection_id=connection_id, token=token)
    return AGAIN_KEY in (row["config"] or {})
