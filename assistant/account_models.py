"""What belongs to a user's account beyond Django's user: their time zone and working
hours (for time questions and free slots), and the calendar events the assistant
proposed in a chat, which are written only when the user confirms."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone


def default_work_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday..Friday (datetime.weekday())


class AccountSettings(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_settings"
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="IANA zone, e.g. Europe/Berlin ('' = server's)."
    )
    work_start = models.TimeField(default=time(9, 0))
    work_end = models.TimeField(default=time(17, 0))
    work_days = models.JSONField(default=default_work_days, help_text="Weekdays, Monday = 0.")
    # The team the chat works in (null: personal space). Stored here, not in the session,
    # so every device, the API and background work see the same choice; never trusted as
    # is: assistant.teams.selectors.active_team_for checks the membership on each request.
    active_team = models.ForeignKey(
        "assistant.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Per-user limits set by the site admin (empty: the site's LIMIT_* settings).
    limit_requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    limit_tokens_per_day = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"settings of {self.user}"


class EventProposalQuerySet(models.QuerySet):
    def owned_by(self, user) -> EventProposalQuerySet:
        return self.filter(owner=user)


class EventProposal(models.Model):
    """An event the assistant suggested adding; nothing is written before Confirm."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for you"
        ADDED = "added", "Added"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Could not be added"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_proposals"
    )
    answer = models.ForeignKey(
        "assistant.Message", on_delete=models.CASCADE, related_name="event_proposals"
    )
    source = models.ForeignKey(
        "connectors.Source", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=500)
    start = models.DateTimeField()
    end = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64)
    location = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    error = models.TextField(blank=True)
    remote_href = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = EventProposalQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"proposed event {self.title!r} ({self.status})"
