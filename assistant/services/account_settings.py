"""A user's time zone and working hours: how time questions and free slots are read."""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError

from assistant.account_models import AccountSettings
from connectors.calendar.freebusy import WorkingHours


@cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the zone files on disk (~15 ms): once per process.
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


@cache
def time_zone_choices() -> list[str]:
    """IANA zones for the select, sorted (the legacy aliases left out)."""
    return sorted(
        z for z in _known_zones() if ("/" in z and not z.startswith("Etc/")) or z == "UTC"
    )


def time_zone_valid(name: str) -> bool:
    return name in _known_zones()


def account_settings_get(*, user) -> AccountSettings:
    """The user's settings; unsaved defaults when they never changed them (no write on read)."""
    found = AccountSettings.objects.filter(user=user).first()
    return found or AccountSettings(user=user)


def account_zone(account: AccountSettings) -> ZoneInfo:
    """The user's zone, else the server's (settings.TIME_ZONE)."""
    name = account.time_zone if time_zone_valid(account.time_zone) else settings.TIME_ZONE
    return ZoneInfo(name)


def account_hours(account: AccountSettings) -> WorkingHours:
    return WorkingHours(
        start=account.work_start, end=account.work_end, days=tuple(sorted(account.work_days))
    )


def account_settings_update(
    *, user, time_zone: str, work_start: time, work_end: time, work_days: list[int]
) -> AccountSettings:
    """Save the settings; ValidationError (by field) when they make no sense."""
    errors = {}
    if time_zone and not time_zone_valid(time_zone):
        errors["time_zone"] = f"“{time_zone}” is not a time zone this server knows."
    if work_end <= work_start:
        errors["work_end"] = "The working day must end after it starts."
    days = sorted(set(work_days))
    if not days or any(day not in range(7) for day in days):
        errors["work_days"] = "Pick at least one working day."
    if errors:
        raise ValidationError(errors)
    account, _ = AccountSettings.objects.update_or_create(
        user=user,
        defaults={
            "time_zone": time_zone,
            "work_start": work_start,
            "work_end": work_end,
            "work_days": days,
        },
    )
    return account
