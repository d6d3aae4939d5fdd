"""A person in Chromium with a synced calendar: asks what's on tomorrow and sees the event
chip, opens it; asks to add lunch and confirms the proposed-event card."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from assistant.account_models import AccountSettings
from scripted_backend import ScriptedBackend
from tests.calendar_factories import calendar_create, event_add
from tests.conftest import point_profiles_at
from tests.connectors.scripted_write_kind import scripted_kinds
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
SHOTS = Path("/work/shots")


def tomorrow_at(hour: int) -> datetime:
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


@pytest.fixture
def olivia(transactional_db):
    # Made before the browser starts (Playwright's loop forbids ORM calls in this thread).
    user = user_create("olivia", password=PASSWORD)
    AccountSettings.objects.create(user=user, time_zone="Europe/Berlin")
    work = calendar_create(user, "Work")
    event_add(work, "Lunch with Ana", tomorrow_at(13), location="Café Blau")
    event_add(work, "Design review", tomorrow_at(15))
    return user


@pytest.fixture
def calendar_backend(settings):
    def reply(request):
        system = request["messages"][0]["content"]
        if "<proposal>" in system:
            return "I can add **Lunch with Ana** on Friday at 13:00: confirm the card below."
        return "Tomorrow you have lunch with Ana at 13:00 and a design review at 15:00."

    with ScriptedBackend(responder=reply) as server:
        point_profiles_at(settings, server.base_url)
        yield server


@pytest.fixture
def kind():
    with scripted_kinds() as scripted:
        yield scripted


def ask(page, text: str, count: int) -> None:
    page.fill("#composer textarea", text)
    page.keyboard.press("Enter")
    page.locator(".msg-assistant.status-complete").nth(count - 1).wait_for(timeout=15_000)


def test_ask_about_tomorrow_then_add_an_event(
    olivia, asgi_server, calendar_backend, kind, syncs, browser
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The browser lives in New York: the account page offers that zone.
    page = browser.new_page(viewport={"width": 1280, "height": 860}, timezone_id="America/New_York")
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    page.wait_for_selector("text=on your mind?")
    assert page.locator("a.nav-link", has_text="Account").count() == 1

    ask(page, "What's on tomorrow?", 1)
    chips = page.locator(".chip-event")
    assert chips.count() == 2
    assert "Lunch with Ana" in chips.first.inner_text()
    assert "13:00" in chips.first.inner_text()  # in Olivia's zone
    page.screenshot(path=SHOTS / "calendar-chips.png")

    ask(page, "Put lunch with Ana on Friday at 1 in my calendar", 2)
    card = page.locator(".proposal-card")
    card.wait_for()
    assert "Lunch with Ana" in card.inner_text() and "13:00" in card.inner_text()
    assert kind.written == []  # nothing before the click
    page.screenshot(path=SHOTS / "calendar-proposal.png")
    card.get_by_role("button", name="Confirm").click()
    page.locator(".proposal-card.status-added").wait_for(timeout=10_000)
    assert "Added to your calendar" in page.locator(".proposal-card").inner_text()
    assert len(kind.written) == 1 and len(syncs) == 1
    page.screenshot(path=SHOTS / "calendar-confirmed.png")

    # The chip opens the event's own page.
    chips.first.click()
    page.wait_for_selector("h1.event-title")
    assert page.locator("h1.event-title").inner_text() == "Lunch with Ana"
    assert "Café Blau" in page.content()
    page.screenshot(path=SHOTS / "calendar-event.png")

    # The account page proposes the browser's zone; using it and saving keeps it.
    page.click("text=← Chat")
    page.click("a.nav-link:has-text('Account')")
    hint = page.locator("#browser-zone")
    hint.wait_for()
    assert "America/New_York" in hint.inner_text()
    assert page.locator("#id_time_zone").input_value() == "Europe/Berlin"
    page.screenshot(path=SHOTS / "account.png")
    hint.get_by_role("button", name="Use it").click()
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    assert page.locator("#id_time_zone").input_value() == "America/New_York"
    assert page.locator("#browser-zone").is_hidden()
