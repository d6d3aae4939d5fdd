"""A person in Chromium with synced files: asks about one, sees the [d:N] chip of the
passage the answer used, and opens it: the passage marked in its file, with the file's
link. The scripted backend answers only from what the prompt's Documents block holds."""

from __future__ import annotations

import pytest

from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at
from tests.document_factories import document_add, folder_create
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def olivia(transactional_db):
    # Made before the browser starts (Playwright's loop forbids ORM calls in this thread).
    user = user_create("olivia", password=PASSWORD)
    notes = folder_create(user, "Notes")
    document_add(
        notes,
        "Notes/house.md",
        [
            ("The boiler was serviced in March by Heatwell.", {"heading": "House"}),
            ("The wifi password is on a card taped inside the fridge door.", {"heading": "House"}),
            ("Bins go out on Tuesday evenings.", {"heading": "House"}),
        ],
        web_url="https://cloud.example.org/index.php/f/42",
    )
    document_add(notes, "Notes/garden.txt", ["Tomatoes need six hours of sun."])
    return user


@pytest.fixture
def backend(settings):
    def reply(request):
        system = request["messages"][0]["content"]
        assert "fridge door" in system  # the passage reached the prompt
        return "The wifi password is on a card inside the fridge door."

    with ScriptedBackend(responder=reply) as server:
        point_profiles_at(settings, server.base_url)
        yield server


def test_a_passage_chip_opens_the_passage(olivia, asgi_server, backend, browser, screenshot_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    page.wait_for_selector("text=on your mind?")
    page.fill("#composer textarea", "Where is the wifi password?")
    page.keyboard.press("Enter")
    page.locator(".msg-assistant.status-complete").first.wait_for(timeout=15_000)
    chip = page.locator(".chip-document").filter(has_text="Notes/house.md").first
    chip.wait_for()
    assert chip.inner_text().startswith("d:")
    page.screenshot(path=screenshot_dir / "document-chips.png")
    chip.click()
    page.wait_for_selector("mark")
    assert "fridge door" in page.inner_text("mark")
    assert "Notes/house.md" in page.inner_text("body")
    link = page.locator("a[href='https://cloud.example.org/index.php/f/42']")
    assert link.count() == 1
    page.screenshot(path=screenshot_dir / "passage-preview.png", full_page=True)
