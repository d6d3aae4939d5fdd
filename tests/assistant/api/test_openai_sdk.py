"""The official `openai` SDK against the real ASGI app on a live server, the scripted
backend behind it echoing the prompt it received: memory injected inside its fence,
reasoning in the fields clients read, streaming and not, errors, and a client that
leaves mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpx
import openai
import pytest
from openai import OpenAI

from assistant.models import ContextItem, Conversation, Message
from tests.assistant.api.openai_client import api_token
from tests.factories import remember

pytestmark = pytest.mark.django_db(transaction=True)

BIKE = "Olivia's bike is a green Brompton."


@pytest.fixture
def echo(backend):
    """Reasoning, then the system prompt the backend received, as the answer."""

    def reply(request: dict) -> list:
        system = request["messages"][0]["content"]
        return [{"reasoning_content": "Thinking it over."}, {"content": f"PROMPT:\n{system}"}]

    backend.responder = reply
    return backend


@pytest.fixture
def raw_token(owner) -> str:
    return api_token(owner)


@pytest.fixture
def sdk(asgi_server, raw_token) -> OpenAI:
    return OpenAI(base_url=f"{asgi_server}/v1", api_key=raw_token, max_retries=0, timeout=30)


def fenced(text: str) -> str:
    return text[text.index("<memory>") : text.index("</memory>")]


def extra(model, name: str):
    return (model.model_extra or {}).get(name)


def test_models_through_the_sdk(sdk, settings):
    assert [m.id for m in sdk.models.list()] == list(settings.MODEL_PROFILES)


def test_streaming_through_the_sdk_carries_memory_and_reasoning(owner, sdk, echo):
    item = remember(owner, BIKE)
    stream = sdk.chat.completions.create(
        model="thinking",
        messages=[{"role": "user", "content": "What colour is my bike?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    content = "".join(d.content or "" for d in deltas)
    reasoning = "".join(extra(d, "reasoning_content") or "" for d in deltas)
    assert reasoning == "Thinking it over."
    assert "".join(extra(d, "reasoning") or "" for d in deltas) == reasoning
    assert BIKE in fenced(content)  # the user's memory, inside the fence, reached the model
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0

    conversation = Conversation.objects.get(owner=owner)
    assert conversation.channel == "api"
    answer = conversation.messages.get(role="assistant")
    assert answer.status == "complete" and answer.content == content
    assert ContextItem.objects.get(answer=answer, memory=item).injected


def test_non_streaming_through_the_sdk(owner, sdk, echo):
    remember(owner, BIKE)
    raw = sdk.chat.completions.with_raw_response.create(
        model="thinking",
        messages=[
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "What colour is my bike?"},
        ],
        max_tokens=300,
        temperature=0.2,
    )
    completion = raw.parse()
    message = completion.choices[0].message
    assert BIKE in fenced(message.content)
    assert "Answer in French." in message.content
    assert extra(message, "reasoning_content") == extra(message, "reasoning")
    assert extra(message, "reasoning") == "Thinking it over."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    conversation = Conversation.objects.get(pk=raw.headers["X-Conversation-Id"])
    answer = conversation.messages.get(role="assistant")
    assert answer.request_options == {"max_tokens": 300, "temperature": 0.2}
    assert echo.requests[-1]["temperature"] == 0.2


def test_the_sdk_continues_its_conversation(owner, sdk, backend):
    messages = [{"role": "user", "content": "Hello"}]
    first = sdk.chat.completions.create(model="fast", messages=messages)
    messages += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And again"},
    ]
    sdk.chat.completions.create(model="fast", messages=messages)
    conversation = Conversation.objects.get(owner=owner)
    assert conversation.messages.count() == 4


def test_memory_off_through_the_sdk(owner, sdk, echo):
    remember(owner, BIKE)
    completion = sdk.chat.completions.create(
        model="fast",
        messages=[{"role": "user", "content": "What colour is my bike?"}],
        extra_headers={"X-Memory": "off"},
    )
    assert "Brompton" not in completion.choices[0].message.content
    assert Conversation.objects.get(owner=owner).incognito


def test_the_sdk_sees_bad_input_as_its_errors(sdk, asgi_server):
    with pytest.raises(openai.BadRequestError) as error:
        sdk.chat.completions.create(model="gpt-7", messages=[{"role": "user", "content": "x"}])
    assert error.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as error:
        sdk.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}], n=2)
    assert error.value.code == "n_not_supported"
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(openai.BadRequestError) as error:
        sdk.chat.completions.create(model="fast", messages=[{"role": "user", "content": [image]}])
    assert error.value.code == "unsupported_content"
    stranger = OpenAI(base_url=f"{asgi_server}/v1", api_key="rk_nope_nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.models.list()


def test_a_backend_failure_mid_stream_is_an_error_not_a_finish(owner, sdk, backend):
    backend.script([[{"content": "Half an "}, {"content": "answer"}, ("drop",)]])
    stream = sdk.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "Tell me"}], stream=True
    )
    seen = []
    with pytest.raises(openai.APIError) as error:
        for chunk in stream:
            seen.append(chunk)
    assert "stop" not in [c.choices[0].finish_reason for c in seen if c.choices]
    assert error.value.message
    answer = Message.objects.get(conversation__owner=owner, role="assistant")
    assert answer.status == "error" and answer.content == "Half an answer"


def test_a_client_leaving_mid_stream_cancels_the_answer_and_the_backend(
    owner, asgi_server, raw_token, backend
):
    slow = [{"content": "first "}]
    for _ in range(60):
        slow += [("sleep", 0.2), {"content": "more "}]
    backend.script([slow])
    body = {"model": "fast", "messages": [{"role": "user", "content": "Talk"}], "stream": True}
    headers = {"Authorization": f"Bearer {raw_token}"}
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", f"{asgi_server}/v1/chat/completions", json=body, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content": "first' in line:
                json.loads(line[6:])
                break
    # The client is gone: the answer is kept as cancelled and the backend request dropped.
    deadline = time.monotonic() + 15
    answer = Message.objects.get(conversation__owner=owner, role="assistant")
    while time.monotonic() < deadline:
        answer.refresh_from_db()
        if answer.status != "streaming" and backend.in_flight == 0:
            break
        time.sleep(0.1)
    assert answer.status == "cancelled"
    assert answer.content.startswith("first")
    assert backend.in_flight == 0  # long before the 12 s the script would have taken


def test_a_client_leaving_a_non_streaming_request_cancels_the_answer(
    owner, asgi_server, raw_token, backend
):
    slow = [{"content": "first "}]
    for _ in range(60):
        slow += [("sleep", 0.2), {"content": "more "}]
    backend.script([slow])
    body = {"model": "fast", "messages": [{"role": "user", "content": "Talk"}]}
    headers = {"Authorization": f"Bearer {raw_token}"}

    async def leave_once_the_model_is_asked() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            request = asyncio.ensure_future(
                client.post(f"{asgi_server}/v1/chat/completions", json=body, headers=headers)
            )
            deadline = time.monotonic() + 20
            while not backend.requests and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            request.cancel()  # closes the connection mid-answer
            with contextlib.suppress(asyncio.CancelledError):
                await request

    asyncio.run(leave_once_the_model_is_asked())
    assert backend.requests
    deadline = time.monotonic() + 15
    answer = None
    while time.monotonic() < deadline:
        answer = Message.objects.filter(conversation__owner=owner, role="assistant").first()
        closed = answer is not None and answer.status not in ("pending", "streaming")
        if closed and backend.in_flight == 0:
            break
        time.sleep(0.1)
    assert answer is not None and answer.status == "cancelled"
    assert backend.in_flight == 0


def test_the_sdks_own_retry_after_a_failure_keeps_one_conversation(
    owner, asgi_server, raw_token, backend
):
    """The SDK resends a request that got a 5xx (max_retries): the retry replaces the
    failed answer instead of starting a second conversation."""
    backend.script([[("status", 500)]])
    sdk = OpenAI(base_url=f"{asgi_server}/v1", api_key=raw_token, max_retries=2, timeout=30)
    completion = sdk.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "Hello?"}]
    )
    assert completion.choices[0].message.content == "Hello from the scripted backend."
    conversation = Conversation.objects.get(owner=owner)
    assert [m.status for m in conversation.messages.order_by("id")] == ["complete", "complete"]
