"""Memory extraction: parsing what models really send, retrying once, giving up on record,
and the provenance every extracted memory keeps."""

from __future__ import annotations

import json
import uuid

import pytest

from assistant.background.models import TaskRun
from assistant.background.pipeline import conversation_pipeline_run
from assistant.background.runs import task_run_create
from assistant.background.tasks import conversation_summarise
from inference.structured_ask import CORRECTION
from memory.consolidation.extract import candidates_from_reply
from memory.consolidation.transcript import Transcript, TranscriptMessage
from memory.models import MemoryItem, SessionSummary
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, chat, memories_json, memory

pytestmark = pytest.mark.django_db

VEGETARIAN = memory("The user is vegetarian.", message=3, quote="I'm vegetarian", confidence=0.9)
ZELLIGE = memory("The user chose green zellige tiles for the kitchen.", kind="plan", message=3,
                 quote="Let's go with the green zellige", confidence=0.8)  # fmt: skip


def run(conversation):
    return conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")


def extracted(owner):
    return MemoryItem.objects.owned_by(owner).exclude(kind="summary").order_by("id")


@pytest.mark.parametrize(
    "reply",
    [
        "<think>The user said they are vegetarian in message 3; that is lasting.</think>\n"
        + memories_json(VEGETARIAN),
        "Sure! Here is what I found:\n" + memories_json(VEGETARIAN) + "\nHope this helps.",
        "```json\n" + memories_json(VEGETARIAN) + "\n```",
        json.dumps([VEGETARIAN]),  # the wrapper object left out
    ],
    ids=["r1-think", "prose", "fenced", "bare-list"],
)
def test_replies_as_models_send_them_are_understood(owner, model, reply):
    model.queue("extract", reply)
    conversation = chat(owner, KITCHEN)

    outcome = run(conversation)

    assert outcome.parse_failures == 0 and outcome.memories_added == 1
    item = extracted(owner).get()
    assert item.text == "The user is vegetarian."


def test_extracted_memory_keeps_provenance_and_waits_for_review(owner, model):
    model.queue("extract", memories_json(VEGETARIAN, ZELLIGE))
    conversation = chat(owner, KITCHEN)
    cited = conversation.messages.order_by("id")[2]

    run(conversation)

    vegetarian, zellige = extracted(owner)
    assert vegetarian.source == "extracted" and vegetarian.status == "proposed"
    assert vegetarian.source_message == cited and vegetarian.quote == "I'm vegetarian"
    assert vegetarian.source_message.conversation == conversation
    assert vegetarian.confidence == 0.9 and vegetarian.occurred_at == cited.created_at
    assert vegetarian.thread_key == f"conversation:{conversation.pk}"
    assert zellige.kind == "plan"
    assert "extracted from" in vegetarian.revisions.get().reason


def test_auto_accept_puts_extracted_memories_live(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    model.queue("extract", memories_json(VEGETARIAN))
    run(chat(owner, KITCHEN))
    assert extracted(owner).get().status == "active"


def test_invalid_output_is_retried_once_with_a_correction(owner, model):
    model.queue("extract", '{"memories": [{"text": "The user is veg', memories_json(VEGETARIAN))

    outcome = run(chat(owner, KITCHEN))

    assert outcome.parse_failures == 1 and outcome.memories_added == 1
    retry = model.requests["extract"][-1]["messages"]
    assert retry[-1]["role"] == "user" and retry[-1]["content"].startswith(CORRECTION[:20])
    assert retry[-2]["role"] == "assistant"


def test_giving_up_is_recorded_on_the_task_run_and_the_summary_still_lands(owner, model):
    model.queue("extract", "I cannot help with that.", "Still no JSON, sorry.")
    conversation = chat(owner, KITCHEN)
    task_id = str(uuid.uuid4())
    run_row = task_run_create(owner=owner, kind="summarise", target_label="kitchen",
                              conversation_id=conversation.pk, celery_task_id=task_id)  # fmt: skip

    conversation_summarise.apply(args=(conversation.pk,), task_id=task_id)  # signals fire

    run_row.refresh_from_db()
    assert run_row.state == "succeeded" and run_row.attempts == 1
    assert run_row.parse_failures == 2 and "gave up" in run_row.error
    assert run_row.messages_summarised == 4 and run_row.prompt_tokens > 0
    assert SessionSummary.objects.count() == 1 and not extracted(owner).exists()
    conversation.refresh_from_db()
    assert conversation.summarised_through is not None  # moved on: no endless retries


def test_a_server_that_rejects_response_format_is_asked_again_without_it(owner, model):
    def picky(request):
        if "response_format" in request:
            return [("status", 400, {"error": {"message": "response_format is not supported"}})]
        return model(request)

    model.server.responder = picky
    model.queue("extract", memories_json(VEGETARIAN))

    outcome = run(chat(owner, KITCHEN))

    assert outcome.memories_added == 1 and outcome.parse_failures == 0
    formats = [r.body.get("response_format", {}).get("type") for r in model.server.requests]
    assert formats[-3:] == ["json_schema", "json_object", None]


def test_llama_cpp_gets_its_own_json_object_style_and_keeps_it(owner, model):
    # llama-cpp-python's server answers json_schema with a 500 that names the field.
    def llama_cpp(request):
        if request.get("response_format", {}).get("type") == "json_schema":
            message = "1 validation error: ('body', 'response_format', 'type') 'json_object'"
            return [("status", 500, {"error": {"message": message}})]
        return model(request)

    model.server.responder = llama_cpp
    model.queue("extract", memories_json(VEGETARIAN))

    outcome = run(chat(owner, KITCHEN))
    run(chat(owner, KITCHEN[:2]))

    assert outcome.memories_added == 1
    formats = [r.body.get("response_format", {}).get("type") for r in model.server.requests]
    extraction = [fmt for fmt in formats if fmt]
    assert extraction == ["json_schema", "json_object", "json_object"]  # remembered
    object_style = next(
        r.body["response_format"] for r in model.server.requests if "response_format" in r.body
        and r.body["response_format"]["type"] == "json_object"
    )  # fmt: skip
    assert object_style["schema"]["properties"]["memories"]["maxItems"] == 15


def transcript(*messages: tuple[str, str]) -> Transcript:
    from django.utils import timezone

    rows = tuple(
        TranscriptMessage(number, 100 + number, role, text, timezone.now())
        for number, (role, text) in enumerate(messages, start=1)
    )
    return Transcript(conversation_id=1, title="t", messages=rows)


def test_candidates_are_checked_one_by_one():
    lines = transcript(("user", "I moved to Lisbon in March."), ("assistant", "Nice city!"))
    reply = {
        "memories": [
            {"text": "The user lives in Lisbon.", "kind": "Facts", "message": 1,
             "quote": "moved to Lisbon", "confidence": "85%"},
            {"text": "The user likes Lisbon.", "kind": "like", "message": 2,
             "quote": "Nice city!", "confidence": 70},
            {"text": "The user moved.", "kind": "fact", "message": 1,
             "quote": "words the user never said", "confidence": 150},
            {"text": "", "kind": "fact"},
            {"text": "769", "kind": "fact"},
            {"kind": "fact"},
            "The user lives in Lisbon.",
        ]
    }  # fmt: skip

    candidates, dropped = candidates_from_reply(reply, lines)

    lisbon, likes, moved = candidates
    assert (lisbon.kind, lisbon.confidence, lisbon.message_id) == ("fact", 0.85, 101)
    assert lisbon.quote == "moved to Lisbon"
    assert likes.kind == "preference" and likes.confidence == 0.7
    assert likes.message_id is None  # an assistant message is no provenance
    assert moved.quote == "I moved to Lisbon in March."  # an invented quote is replaced
    assert moved.confidence == 1.0
    assert dropped == 4  # empty, a bare number, missing text, repeated


def test_a_reply_without_a_list_of_memories_is_refused():
    from inference.structured import StructuredOutputError

    with pytest.raises(StructuredOutputError):
        candidates_from_reply({"answer": "nothing"}, transcript(("user", "hi")))


def test_a_failed_run_never_leaves_a_task_run_pending(owner, model):
    model.queue("summary", [("status", 400, "model does not exist")])  # permanent error
    conversation = chat(owner, KITCHEN)
    result = conversation_summarise.apply(args=(conversation.pk,))  # sent without a TaskRun
    assert result.failed()
    run_row = TaskRun.objects.get()
    assert run_row.state == "failed" and run_row.finished_at is not None
    assert "400" in run_row.error and run_row.messages_summarised == 0
    conversation.refresh_from_db()
    assert conversation.summary_failed_at is not None and conversation.summarised_through is None
