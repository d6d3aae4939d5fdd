"""`manage.py memory_backfill`: existing conversations, synchronously, resumable."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from assistant.background.models import TaskRun
from memory.models import SessionSummary
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, chat

pytestmark = pytest.mark.django_db


def test_backfill_summarises_every_conversation_to_its_end(owner, model, settings, capsys):
    settings.SUMMARY_MAX_INPUT_TOKENS = 200
    first = chat(owner, ["tiles and grout and zellige " * 20] * 4)
    second = chat(owner, KITCHEN, title="Second")
    chat(owner, KITCHEN, title="Secret", incognito=True)

    call_command("memory_backfill")

    assert "2 conversations summarised" in capsys.readouterr().out
    for conversation in (first, second):
        conversation.refresh_from_db()
        last = conversation.messages.order_by("id").last()
        assert conversation.summarised_through == last.pk
    assert SessionSummary.objects.filter(conversation=first).count() > 1  # capped batches
    runs = TaskRun.objects.filter(kind="backfill")
    assert runs.count() == 2 and set(runs.values_list("state", flat=True)) == {"succeeded"}

    call_command("memory_backfill")  # resumable: nothing is done twice
    assert "already summarised" in capsys.readouterr().out


def test_backfill_continues_where_it_stopped(owner, model, capsys):
    done = chat(owner, KITCHEN, title="Done")
    later = chat(owner, KITCHEN, title="Later")
    model.server.responder = lambda request: [("status", 401, "bad key")]
    model.server.script([model.defaults["summary"], model.defaults["extract"]])  # first one ok

    with pytest.raises(CommandError):
        call_command("memory_backfill")
    assert "Later: failed: " in capsys.readouterr().out
    assert "HTTP 401" in TaskRun.objects.get(state="failed").error
    assert SessionSummary.objects.filter(conversation=done).count() == 1
    assert not SessionSummary.objects.filter(conversation=later).exists()

    model.server.responder = model  # the server is fixed
    call_command("memory_backfill")
    assert SessionSummary.objects.filter(conversation=done).count() == 1
    assert SessionSummary.objects.filter(conversation=later).count() == 1


def test_backfill_filters_by_user_and_date(owner, outsider, model, capsys):
    chat(owner, KITCHEN)
    chat(outsider, KITCHEN)
    call_command("memory_backfill", user=owner.username, since="2000-01-01")
    assert SessionSummary.objects.get().owner == owner


def test_backfill_leaves_paused_users_alone(owner, model):
    chat(owner, KITCHEN)
    memory_settings_update(owner=owner, paused=True)
    call_command("memory_backfill")
    assert not SessionSummary.objects.exists() and model.calls == []


@pytest.mark.parametrize("options", [{"user": "nobody"}, {"since": "last week"}])
def test_backfill_explains_bad_options(options, db):
    with pytest.raises(CommandError):
        call_command("memory_backfill", **options)
