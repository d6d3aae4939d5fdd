"""A person in Chromium: sign in, ask, watch reasoning and answer stream, reload."""

from __future__ import annotations

import pytest

from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = pytest.mark.e2e

REASONING = ["The user ", "asks about ", "tides. ", "The Moon's ", "gravity ", "pulls water."]
ANSWER = [
    "Tides are ",
    "caused mainly by ",
    "the **Moon's gravity**",
    ", with help ",
    "from the Sun.",
]


def thinking_reply(request):
    return [{"reasoning_content": piece} for piece in REASONING] + [
        {"content": piece} for piece in ANSWER
    ]


@pytest.fixture
def olivia(transactional_db):
    # Created before the browser starts: Playwright's sync API runs an event loop, and
    # Django refuses ORM calls from a thread with a running loop.
    return user_create("olivia", password=PASSWORD)


@pytest.fixture
def slow_backend(settings):
    # A visible token rate, so the test sees text arrive before the answer is done.
    with ScriptedBackend(responder=thinking_reply, chunk_delay_s=0.15) as server:
        point_profiles_at(settings, server.base_url)
        yield server


def test_sign_in_chat_stream_and_reload(olivia, asgi_server, slow_backend, browser, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    sign_in(page, asgi_server, "olivia")
    page.wait_for_selector("text=Start a conversation")
    page.screenshot(path=screenshot_dir / "home.png")

    page.click("button.profile-card[value=thinking]")
    page.wait_for_selector("text=on your mind?")
    page.fill("#composer textarea", "Why are there tides?")
    page.keyboard.press("Enter")

    # The reasoning block opens and fills while the answer is still streaming.
    reasoning = page.locator(".msg-assistant .reasoning-body")
    reasoning.filter(has_text="The user asks").wait_for(timeout=10_000)
    assert page.locator(".msg-assistant.status-pending").count() == 1
    page.locator(".answer.streaming").filter(has_text="Tides are").wait_for(timeout=10_000)
    assert page.locator(".msg-assistant.status-pending").count() == 1  # still streaming
    page.screenshot(path=screenshot_dir / "streaming.png")

    # The final frame swaps in the finished message with rendered Markdown.
    page.locator(".msg-assistant.status-complete").wait_for(timeout=15_000)
    assert "Moon's gravity" in page.locator(".msg-assistant strong").inner_text()
    assert page.locator(".msg-assistant summary").inner_text().startswith("Thought for")
    assert page.locator("#composer textarea").input_value() == ""
    # The title follows the first message without a reload.
    assert page.locator("#conversation-title").inner_text() == "Why are there tides?"
    page.screenshot(path=screenshot_dir / "answered.png")

    page.reload()
    assert page.locator(".msg-user .bubble").inner_text() == "Why are there tides?"
    assert "Tides are caused mainly by" in page.locator(".msg-assistant .answer").inner_text()
    assert page.locator(".conversation-link.active").inner_text() == "Why are there tides?"

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(400)  # the menu slides away on narrow screens
    page.screenshot(path=screenshot_dir / "phone.png")


def test_empty_and_over_long_messages_show_errors(olivia, asgi_server, backend, browser, settings):
    settings.MAX_MESSAGE_CHARS = 50
    page = browser.new_page()
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")

    page.click("#composer button[type=submit]")
    page.locator("#composer-errors").filter(has_text="Type a message first.").wait_for()

    page.fill("#composer textarea", "x" * 60)
    page.click("#composer button[type=submit]")
    page.locator("#composer-errors").filter(has_text="the limit is 50").wait_for()
    # The text stays in the box so nothing the user typed is lost.
    assert page.locator("#composer textarea").input_value() == "x" * 60
    assert page.locator(".msg").count() == 0


@pytest.fixture
def olivia_with_memory(olivia):
    from memory.services.items import memory_create

    return memory_create(
        owner=olivia,
        text="Olivia is allergic to peanuts.",
        kind="fact",
        source="stated",
        actor="user",
    )


def test_answer_shows_used_memory_and_the_inspector(
    olivia_with_memory, asgi_server, backend, browser, screenshot_dir
):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    page.fill("#composer textarea", "Which snacks are risky for my peanut allergy?")
    page.keyboard.press("Enter")

    chip = page.locator(".chips .chip").first
    chip.wait_for(timeout=15_000)
    assert f"m:{olivia_with_memory.pk}" in chip.inner_text()

    page.click("text=Inspect context")
    dialog = page.locator("#inspector")
    dialog.locator("text=What the model saw").wait_for()
    assert "allergic to peanuts" in dialog.inner_text()
    assert "Memory" in dialog.locator(".parts").first.inner_text()
    page.screenshot(path=screenshot_dir / "inspector.png")
    dialog.locator("button[aria-label=Close]").click()

    chip.click()
    page.wait_for_url(f"**/memory/{olivia_with_memory.pk}/")
    assert "allergic to peanuts" in page.content()


def test_backend_down_shows_the_error_keeps_the_message_and_offers_retry(
    olivia, asgi_server, dead_backend_url, browser, screenshot_dir
):
    long_word = "supercalifragilistic" * 12  # no spaces: must wrap, not overflow
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    page.fill("#composer textarea", f"Does this wrap? {long_word}")
    page.keyboard.press("Enter")

    alert = page.locator(".msg-assistant .alert-error")
    alert.wait_for(timeout=30_000)  # a liveness bound: CI once missed 15 s on a busy host
    assert dead_backend_url in alert.inner_text()
    assert page.locator(".msg-assistant button", has_text="Retry").count() == 1
    assert long_word in page.locator(".msg-user .bubble").inner_text()
    # Nothing is wider than the phone screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "backend-down-phone.png")
