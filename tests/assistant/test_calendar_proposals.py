"""Adding an event from the chat: a proposal card, and nothing written before Confirm.
Confirm writes once through the kind and starts a sync; Edit and Cancel never write; a
failed write keeps the proposal with the reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from assistant.account_models import AccountSettings, EventProposal
from assistant.models import Conversation, Message
from assistant.services.conversations import message_continue
from connectors.base import PermanentError, TransientError
from tests.assistant.sse import stream_frames
from tests.assistant.test_memory_in_chat import ask, system_prompt
from tests.calendar_factories import calendar_create
from tests.connectors.scripted_write_kind import scripted_kinds

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
ASK = "Put lunch with Ana on Friday at 1 in my calendar"


@pytest.fixture
def kind():
    with scripted_kinds() as scripted:
        yield scripted


@pytest.fixture
def berliner(owner):
    AccountSettings.objects.create(user=owner, time_zone="Europe/Berlin")
    return owner


def proposed(owner, backend, text=ASK):
    conversation = Conversation.objects.create(owner=owner)
    answer, frames = ask(owner, conversation, text)
    return answer.event_proposals.get(), frames


def test_asking_proposes_a_card_and_writes_nothing(berliner, backend, kind, syncs):
    work = calendar_create(berliner, "Work")
    calendar_create(berliner, "Family")

    proposal, frames = proposed(berliner, backend)

    local = proposal.start.astimezone(BERLIN)
    assert (proposal.title, proposal.status, proposal.source) == (
        "Lunch with Ana",
        "proposed",
        work,
    )
    assert local.weekday() == 4 and local.time() == time(13) and local.date() >= date.today()
    assert proposal.end - proposal.start == timedelta(hours=1)
    assert proposal.time_zone == "Europe/Berlin"
    assert kind.written == [] and syncs == []  # nothing without the click
    final = frames[-1][1]
    assert f'id="proposal-{proposal.pk}"' in final and "Confirm" in final
    assert reverse("proposal-confirm", args=[proposal.pk]) in final
    system = system_prompt(backend)
    assert "nothing is added until the user clicks" in system
    assert "<proposal>" in system and "Lunch with Ana" in system


def test_confirm_writes_once_and_starts_a_sync(berliner, owner_client, backend, kind, syncs):
    work = calendar_create(berliner, "Work")
    proposal, _ = proposed(berliner, backend)
    url = reverse("proposal-confirm", args=[proposal.pk])

    page = owner_client.post(url)
    again = owner_client.post(url)  # a double click

    assert page.status_code == 200 and b"Added" in page.content
    assert again.status_code == 200
    (href, draft), = kind.written  # fmt: skip
    assert draft.title == "Lunch with Ana" and draft.time_zone == "Europe/Berlin"
    assert draft.start.tzinfo is not None and draft.start.hour == 13
    proposal.refresh_from_db()
    assert (proposal.status, proposal.remote_href) == ("added", href)
    assert syncs == [work.connection_id]


def test_cancel_and_edit_never_write(berliner, owner_client, backend, kind, syncs):
    calendar_create(berliner, "Work")
    family = calendar_create(berliner, "Family")
    proposal, _ = proposed(berliner, backend)
    edit = reverse("proposal-edit", args=[proposal.pk])

    form = owner_client.get(edit)
    assert form.status_code == 200 and b'name="title"' in form.content
    saved = owner_client.post(edit, {"title": "Lunch with Ana and Bo", "day": "2030-05-17",
                                     "start_time": "12:30", "end_time": "14:00",
                                     "location": "Café Blau", "source": family.pk})  # fmt: skip
    assert saved.status_code == 200 and b"Lunch with Ana and Bo" in saved.content
    proposal.refresh_from_db()
    assert proposal.start == datetime(2030, 5, 17, 12, 30, tzinfo=BERLIN)
    assert proposal.end == datetime(2030, 5, 17, 14, 0, tzinfo=BERLIN)
    assert (proposal.source, proposal.location) == (family, "Café Blau")
    bad = owner_client.post(edit, {"title": "x", "day": "2030-05-17", "start_time": "15:00",
                                   "end_time": "14:00", "source": family.pk})  # fmt: skip
    assert b"must end after it starts" in bad.content

    owner_client.post(reverse("proposal-cancel", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.status == "cancelled"
    owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))  # too late: no write
    assert kind.written == [] and syncs == []


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (TransientError("The server did not answer in time."), "did not answer in time"),
        (PermanentError("The calendar refused the event.", hint="Check its permissions."),
         "Check its permissions."),
    ],
)  # fmt: skip
def test_a_failed_write_keeps_the_proposal_with_the_reason(
    berliner, owner_client, backend, kind, syncs, error, shown
):
    calendar_create(berliner, "Work")
    proposal, _ = proposed(berliner, backend)
    kind.fail_with = error

    page = owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))

    assert shown in page.content.decode() and b"Try again" in page.content
    proposal.refresh_from_db()
    assert proposal.status == "failed" and shown in proposal.error
    assert syncs == []
    kind.fail_with = None
    owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))  # the retry works
    proposal.refresh_from_db()
    assert proposal.status == "added" and len(kind.written) == 1


def test_read_only_calendars_get_a_clear_message(berliner, owner_client, backend, kind, syncs):
    feed = calendar_create(berliner, "Holidays", kind="scripted_feed", writable=False)
    proposal, frames = proposed(berliner, backend)
    assert proposal.source is None and "ICS feeds are read-only" in frames[-1][1]

    page = owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))
    assert "read-only" in page.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "failed" and "CalDAV or Google" in proposal.error

    # Even a proposal pointed at the feed by hand is refused by the kind, in words.
    EventProposal.objects.filter(pk=proposal.pk).update(source=feed)
    owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert "Scripted feed calendars are read-only" in proposal.error
    assert kind.written == [] and syncs == []


def test_a_proposal_without_a_time_is_all_day(berliner, owner_client, backend, kind, syncs):
    calendar_create(berliner, "Work")
    proposal, _ = proposed(berliner, backend, "Add Mom's birthday on March 3 to my calendar")
    assert proposal.all_day and proposal.title == "Mom's birthday"
    owner_client.post(reverse("proposal-confirm", args=[proposal.pk]))
    (_, draft), = kind.written  # fmt: skip
    assert isinstance(draft.start, date) and not isinstance(draft.start, datetime)
    assert (draft.start.month, draft.start.day) == (3, 3)
    assert draft.end - draft.start == timedelta(days=1)


def test_continuing_a_cut_off_answer_does_not_propose_again(berliner, backend, kind, syncs):
    calendar_create(berliner, "Work")
    proposal, _ = proposed(berliner, backend)
    Message.objects.filter(pk=proposal.answer_id).update(finish_reason="length")
    proposal.answer.refresh_from_db()

    follow = message_continue(answer=proposal.answer)
    stream_frames(berliner, reverse("chat:stream", args=[follow.conversation_id, follow.pk]))

    follow.refresh_from_db()
    assert follow.status == "complete" and not follow.event_proposals.exists()
    assert EventProposal.objects.filter(owner=berliner).count() == 1
