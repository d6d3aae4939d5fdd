"""A person in Chromium over a usage limit: the refusal and its reset time show where the
composer shows its errors, the typed text stays; the usage page draws the day's tokens."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import sign_in
from tests.factories import user_create
from tests.pipeline.worker import RedisServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def olivia(transactional_db):
    from tests.e2e.conftest import PASSWORD

    return user_create("olivia", password=PASSWORD)


@pytest.fixture
def one_request_a_minute(settings):
    server = RedisServer().start()
    settings.REDIS_URL = server.url
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 1
    settings.MODEL_PRICES = {"scripted-fast": (1.0, 2.0), "deepseek-r1": (0.55, 2.19)}
    yield
    server.stop()


def test_over_the_limit_the_chat_says_when_it_resets_and_keeps_the_text(
    olivia, asgi_server, backend, one_request_a_minute, browser, screenshot_dir
):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    if time.time() % 60 > 40:  # both sends in the same UTC minute
        time.sleep(61 - time.time() % 60)

    page.fill("#composer textarea", "First question")
    page.keyboard.press("Enter")
    page.locator(".msg-assistant.status-complete").wait_for(timeout=15_000)

    page.fill("#composer textarea", "Second question, over the limit")
    page.keyboard.press("Enter")
    alert = page.locator("#composer-errors .alert-error")
    alert.filter(has_text="limit of 1 request a minute").wait_for(timeout=10_000)
    assert "resets at" in alert.inner_text()
    assert page.locator("#composer textarea").input_value() == "Second question, over the limit"
    assert page.locator(".msg-user").count() == 1
    page.screenshot(path=screenshot_dir / "usage-limit.png")

    page.goto(f"{asgi_server}/usage/")
    page.locator("svg rect").first.wait_for()
    assert "at deepseek-r1 prices" in page.locator(".usage-compare").inner_text()
    page.screenshot(path=screenshot_dir / "usage-page.png")
