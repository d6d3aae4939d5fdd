"""A person connects a real Radicale calendar through the connections page, waits for the
first sync on the page's live status, and asks "what's on tomorrow?": the model (a
scripted backend that echoes its prompt) was given the event, and the answer shows its
chip. The sync runs the same service a Celery worker runs (connection_sync_run), in a
thread: the Celery path itself is tested in tests/connectors/test_sync_background_worker.py.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from assistant.account_models import AccountSettings
from connectors.bench.ics import vcalendar, vevent
from connectors.bench.radicale import RadicaleAccount, radicale_server
from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

BERLIN = ZoneInfo("Europe/Berlin")
RADICALE_PASSWORD = "radicale-secret-7"


def tomorrow_at(hour: int) -> datetime:
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


@pytest.fixture
def radicale(tmp_path):
    """Radicale with one calendar holding tomorrow's dentist appointment (Berlin time)."""
    with radicale_server(tmp_path / "radicale", users={"olivia": RADICALE_PASSWORD}) as server:
        account = RadicaleAccount(server, "olivia", RADICALE_PASSWORD)
        account.calendar_create("work", displayname="Work")
        event = vevent(
            "dentist-1", "Dentist appointment", tomorrow_at(10), tzid="Europe/Berlin",
            location="Praxis Dr. Weiss",
        )  # fmt: skip
        account.object_put("work", "dentist-1.ics", vcalendar(event))
        yield server


@pytest.fixture
def olivia(transactional_db):
    user = user_create("olivia", password=PASSWORD)
    AccountSettings.objects.create(user=user, time_zone="Europe/Berlin")
    return user


@pytest.fixture
def echo_backend(settings):
    """Answers with the system prompt it was sent, so the page shows what the model saw."""

    def reply(request):
        return "PROMPT:\n\n" + request["messages"][0]["content"]

    with ScriptedBackend(responder=reply) as server:
        point_profiles_at(settings, server.base_url)
        yield server


def test_connect_radicale_sync_and_ask_about_tomorrow(
    radicale, olivia, asgi_server, echo_backend, syncs_in_threads, browser, screenshot_dir
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, asgi_server, "olivia", path="/connections/")
    offer = page.locator(".conn-offer").filter(has=page.get_by_text("CalDAV", exact=True))
    offer.get_by_role("link", name="Connect").click()
    page.fill("input[name=url]", radicale.base_url + "/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", RADICALE_PASSWORD)
    page.click("button[type=submit]")

    # The detail page polls the sync's status until the first sync has finished.
    page.wait_for_selector("#sync-status:has-text('1 event')", timeout=60_000)
    assert RADICALE_PASSWORD not in page.content()
    page.screenshot(path=screenshot_dir / "connect-radicale.png")
    assert len(syncs_in_threads) == 1
    # The calendar Radicale named, with its own count refreshed when the sync ended.
    page.wait_for_selector("#conn-sources .conn-source:has-text('Work'):has-text('1 event')")

    page.goto(f"{asgi_server}/")
    page.click("button.profile-card[value=fast]")
    page.wait_for_selector("text=on your mind?")
    page.fill("#composer textarea", "What's on tomorrow?")
    page.keyboard.press("Enter")
    answer = page.locator(".msg-assistant.status-complete").first
    answer.wait_for(timeout=20_000)

    # What the model saw: the event inside the fenced calendar block, in Olivia's zone.
    prompt = echo_backend.requests[-1].body["messages"][0]["content"]
    assert "Dentist appointment" in prompt and "10:00" in prompt
    assert "Dentist appointment" in answer.inner_text()
    chip = page.locator(".chip-event")
    assert chip.count() == 1 and "Dentist appointment" in chip.first.inner_text()
    page.screenshot(path=screenshot_dir / "connect-radicale-answer.png")

    # A phone-width window: the connections page still reads (no sideways scrolling).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{asgi_server}/connections/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "connections-narrow.png", full_page=True)
