"""Events the assistant proposes adding. Nothing reaches a calendar before the user
clicks Confirm; a failed write keeps the proposal, with the reason, to try again."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assistant.account_models import EventProposal
from assistant.models import Message
from connectors import hooks
from connectors.base import ConnectorError, EventDraft
from connectors.calendar.query import sources_writable
from connectors.calendar.timewords import TimeQuery
from connectors.models import Source
from connectors.services.events import event_create
from inference.fencing import fence_line, fence_wrap

logger = logging.getLogger(__name__)

OPEN = (EventProposal.Status.PROPOSED, EventProposal.Status.FAILED)
NO_CALENDAR = (
    "None of your calendars can take new events (ICS feeds are read-only). Connect a "
    "CalDAV or Google calendar, then confirm again."
)


def proposal_build(*, answer: Message, query: TimeQuery, zone: ZoneInfo) -> EventProposal:
    """An unsaved proposal for an "add" request: the first writable calendar, the time
    asked for (all day when no time was given), the title the user used."""
    source = sources_writable(user=answer.conversation.owner).first()
    if query.at is not None:
        start = query.at
        end = start + (query.duration or timedelta(hours=1))
        all_day = False
    else:
        start = query.start
        end = start + timedelta(days=1)
        all_day = True
    return EventProposal(
        owner=answer.conversation.owner, answer=answer, source=source,
        title=(query.title or "New event")[:500], start=start, end=end, all_day=all_day,
        time_zone=zone.key,
    )  # fmt: skip


def proposal_lines(proposal: EventProposal, *, zone: ZoneInfo) -> list[str]:
    """What the model is told about the card it will sit above."""
    when = (
        {"date": f"{proposal.start.astimezone(zone):%a %Y-%m-%d}", "all_day": True}
        if proposal.all_day
        else {"start": f"{proposal.start.astimezone(zone):%a %Y-%m-%d %H:%M}",
              "end": f"{proposal.end.astimezone(zone):%H:%M}"}
    )  # fmt: skip
    where = proposal.source.name if proposal.source else "no writable calendar"
    card = fence_wrap(
        "proposal", [fence_line("p:new", proposal.title, {**when, "calendar": where})]
    )
    note = (
        "The user asked to add an event. A card with Confirm, Edit and Cancel buttons is "
        "shown under your answer for this proposal; nothing is added until the user clicks "
        "Confirm. Say what you propose in one sentence and never claim it was added."
    )
    if proposal.source is None:
        note += " " + NO_CALENDAR.replace("your", "the user's").replace(
            "Connect", "They can connect"
        )
    return [note, card]


def _draft(proposal: EventProposal) -> EventDraft:
    zone = ZoneInfo(proposal.time_zone)
    if proposal.all_day:
        first = proposal.start.astimezone(zone).date()
        last = proposal.end.astimezone(zone).date()
        end = max(last, first + timedelta(days=1))
        return EventDraft(title=proposal.title, start=first, end=end,
                          time_zone=proposal.time_zone, location=proposal.location)  # fmt: skip
    return EventDraft(
        title=proposal.title, start=proposal.start.astimezone(zone),
        end=proposal.end.astimezone(zone), time_zone=proposal.time_zone,
        location=proposal.location,
    )  # fmt: skip


def proposal_confirm(*, proposal: EventProposal) -> EventProposal:
    """Write the event (the one path that does), then start a sync so it shows."""
    with transaction.atomic():
        # The row lock makes a double click write once: the second waits, then sees ADDED.
        locked = EventProposal.objects.select_for_update(of=("self",)).select_related(
            "source__connection"
        )
        proposal = locked.get(pk=proposal.pk)
        if proposal.status not in OPEN:
            return proposal
        source = proposal.source
        try:
            if source is None or not source.included or source.gone_at:
                raise ConnectorError(NO_CALENDAR)
            href = event_create(source=source, draft=_draft(proposal))
        except Exception as error:  # every failure keeps the proposal, with the reason
            if not isinstance(error, ConnectorError):
                logger.exception("Adding proposed event %s failed", proposal.pk)
            message = (
                str(error)
                if isinstance(error, ConnectorError)
                else (f"The calendar could not be reached ({type(error).__name__}).")
            )
            hint = getattr(error, "hint", "")
            proposal.status, proposal.error = (
                EventProposal.Status.FAILED,
                f"{message} {hint}".strip(),
            )
            proposal.save(update_fields=["status", "error"])
            return proposal
        proposal.status, proposal.error = EventProposal.Status.ADDED, ""
        proposal.remote_href, proposal.decided_at = href[:1000], timezone.now()
        proposal.save(update_fields=["status", "error", "remote_href", "decided_at"])
        try:
            hooks.sync_enqueue(connection=source.connection)
        except Exception:  # the event is written: the periodic sync will bring it in
            logger.exception("Starting a sync after proposal %s failed", proposal.pk)
    return proposal


def proposal_cancel(*, proposal: EventProposal) -> EventProposal:
    EventProposal.objects.filter(pk=proposal.pk, status__in=OPEN).update(
        status=EventProposal.Status.CANCELLED, decided_at=timezone.now()
    )
    proposal.refresh_from_db()
    return proposal


def proposal_update(
    *, proposal: EventProposal, title: str, day: date, start_time: time | None,
    end_time: time | None, source_id: int | None, location: str = "",
) -> EventProposal:  # fmt: skip
    """Change an open proposal (the Edit form); ValidationError by field."""
    errors = {}
    if proposal.status not in OPEN:
        raise ValidationError("This proposal was already decided.")
    title = title.strip()
    if not title:
        errors["title"] = "Give the event a title."
    source = None
    if source_id is not None:
        source = sources_writable(user=proposal.owner).filter(pk=source_id).first()
        if source is None:
            errors["source"] = "Pick one of your writable calendars."
    zone = ZoneInfo(proposal.time_zone)
    if start_time is None:
        start = datetime.combine(day, time(0), tzinfo=zone)
        end, all_day = start + timedelta(days=1), True
    else:
        start = datetime.combine(day, start_time, tzinfo=zone)
        end = (
            datetime.combine(day, end_time, tzinfo=zone) if end_time else start + timedelta(hours=1)
        )
        all_day = False
        if end <= start:
            errors["end_time"] = "The event must end after it starts."
    if errors:
        raise ValidationError(errors)
    proposal.title, proposal.location = title[:500], location.strip()[:500]
    proposal.start, proposal.end, proposal.all_day = start, end, all_day
    proposal.source = source if source_id is not None else proposal.source
    proposal.status, proposal.error = EventProposal.Status.PROPOSED, ""
    proposal.save(
        update_fields=["title", "location", "start", "end", "all_day", "source", "status", "error"]
    )
    return proposal


def proposal_sources(*, user) -> list[Source]:
    return list(sources_writable(user=user))
