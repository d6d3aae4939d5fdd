"""A person on the memory page in Chromium: review, add, edit, search, forget and undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from memory.services import memory_create
from tests.e2e.conftest import PASSWORD
from tests.e2e.conftest import sign_in as sign_in_at
from tests.factories import user_create

pytestmark = pytest.mark.e2e

LONG = (
    "Olivia's travel notes: prefers trains over planes for anything under six hours, "
    "always books a window seat, and keeps a list of bakeries per city — "
    "https://example.org/a-very-long-link-without-spaces-that-must-wrap-instead-of-overflowing"
)


@pytest.fixture
def olivia(transactional_db):
    # Created before the browser starts: Playwright's sync API runs an event loop, and
    # Django refuses ORM calls from a thread with a running loop.
    user = user_create("olivia", password=PASSWORD)
    common = {"owner": user, "actor": "user"}
    memory_create(text=LONG, kind="preference", source="stated", **common)
    memory_create(
        text="Olivia's sister Ana lives in Porto.",
        kind="fact",
        source="stated",
        pinned=True,
        **common,
    )
    memory_create(
        text="Olivia is training for the Lisbon half marathon in October.",
        kind="plan",
        source="extracted",
        status="proposed",
        quote="I'm training for the Lisbon half in October",
        confidence=0.86,
        owner=user,
        actor="assistant",
    )
    for text in ["Olivia's favourite tea is genmaicha.", "Olivia works from home on Fridays."]:
        memory_create(
            text=text,
            kind="preference",
            source="extracted",
            status="proposed",
            owner=user,
            actor="assistant",
        )
    return user


@pytest.fixture
def newcomer(transactional_db):
    return user_create("nina", password=PASSWORD)


def sign_in(page, server: str, username: str) -> None:
    sign_in_at(page, server, username, path="/memory/")
    page.wait_for_selector("h1.memory-title")


def test_add_edit_search_forget_and_undo(olivia, asgi_server, browser, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, asgi_server, "olivia")

    # The review inbox holds the proposal with its evidence; accept it.
    inbox = page.locator("#inbox")
    assert inbox.is_visible()
    assert "Review inbox" in inbox.inner_text()
    assert "Lisbon half marathon" in inbox.inner_text()
    assert "I'm training for the Lisbon half in October" in inbox.inner_text()
    page.screenshot(path=screenshot_dir / "memory-inbox.png")
    marathon = inbox.locator(".memory-item").filter(has_text="Lisbon half marathon")
    marathon.get_by_role("button", name="Accept", exact=True).click()
    page.locator("#inbox").filter(has_text="Accepted.").wait_for()
    results = page.locator("#memory-results")
    results.filter(has_text="Lisbon half marathon").wait_for()
    # The other two in bulk.
    page.locator("#inbox").get_by_label("Select all").check()
    page.locator("#inbox").get_by_role("button", name="Accept selected").click()
    page.locator("#inbox").filter(has_text="Accepted 2 memories.").wait_for()
    results.filter(has_text="genmaicha").wait_for()

    # Add a memory.
    page.fill("#add-text", "I grow tomatoes on my balcony.")
    page.select_option("#add-form select[name=kind]", "fact")
    page.click("#add-form button[type=submit]")
    page.locator("#add-form").filter(has_text="Remembered.").wait_for()
    assert page.locator("#add-text").input_value() == ""
    card = results.locator(".memory-item").filter(has_text="tomatoes")
    card.wait_for()

    # Edit it inline; the history shows old → new.
    card.get_by_role("button", name="Edit").click()
    editor = page.locator("form.editing")
    expect(editor.locator("textarea")).to_be_focused()
    editor.locator("textarea").fill("I grow tomatoes and basil on my balcony.")
    editor.get_by_role("button", name="Save").click()
    card = results.locator(".memory-item").filter(has_text="tomatoes and basil")
    card.wait_for()
    card.locator("summary", has_text="History").click()
    card.locator(".revision-diff del").filter(has_text="I grow tomatoes on my balcony.").wait_for()
    assert "You" in card.locator(".history-list").inner_text()

    # Search with the chat's retriever; the URL follows the search.
    page.fill("input[name=q]", "basil")
    page.wait_for_url(re.compile(r"q=basil"))
    results.filter(has_text="match").wait_for()
    first = results.locator(".memory-item").first
    assert "basil" in first.inner_text()
    assert "Matched by" in first.inner_text()
    page.fill("input[name=q]", "")
    page.wait_for_url(re.compile(r"/memory/(\?q=&.*)?$"))

    # Forget, then undo.
    card = results.locator(".memory-item").filter(has_text="tomatoes and basil")
    card.wait_for()
    card.get_by_role("button", name="Forget", exact=True).click()
    notice = results.locator(".memory-item.forgotten")
    notice.wait_for()
    assert notice.inner_text().startswith("Forgotten.")
    notice.get_by_role("button", name="Undo").click()
    results.locator(".memory-item:not(.forgotten)").filter(has_text="tomatoes and basil").wait_for()
    assert results.locator(".memory-item.forgotten").count() == 0

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "memory.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    page.screenshot(path=screenshot_dir / "memory-phone.png", full_page=True)
    # Nothing sticks out sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    # The detail page (what the chat's memory chips link to).
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{asgi_server}/memory/")
    page.locator(".memory-item").filter(has_text="tomatoes").get_by_role(
        "link", name="Details"
    ).click()
    page.wait_for_selector(".history-list")
    assert "← All memories" in page.inner_text("body")
    page.screenshot(path=screenshot_dir / "memory-detail.png", full_page=True)


def test_pause_switch_and_empty_state(newcomer, asgi_server, browser, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    sign_in(page, asgi_server, "nina")
    page.locator(".memory-empty").filter(has_text="Nothing remembered yet.").wait_for()
    assert page.locator("#inbox").is_hidden()
    page.click("input[name=paused]", force=True)
    page.locator(".memory-banner").filter(has_text="Memory is paused.").wait_for()
    page.screenshot(path=screenshot_dir / "memory-empty-dark.png", full_page=True)
    page.reload()
    assert page.locator("input[name=paused]").is_checked()

    # Forget everything asks for the typed phrase, inline.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#forget-all-form button[type=submit]")
    page.locator("#forget-all-form").filter(has_text="to confirm.").wait_for()
