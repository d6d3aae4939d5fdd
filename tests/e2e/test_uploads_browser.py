"""Uploads in Chromium: a file dropped onto the chat is added to the user's Uploads and
indexed by the drive sync; asked about it, the scripted backend cites the passage with
its [d:N] tag, and the chip opens the passage marked in the file. And the files page of
Uploads: choose files, watch them indexed, delete one. Screenshots go to the data dir's
screenshots/ folder."""

from __future__ import annotations

import re

import pytest

from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

HOUSE = (
    "# House\n\nThe boiler was serviced in March by Heatwell.\n\n"
    "The wifi password is on a card taped inside the fridge door.\n\n"
    "Bins go out on Tuesday evenings.\n"
)
DROP = """(files) => {
  const data = new DataTransfer();
  for (const [name, text] of files) data.items.add(new File([text], name, {type: "text/plain"}));
  return data;
}"""


@pytest.fixture
def olivia(transactional_db, settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    # Made before the browser starts (Playwright's loop forbids ORM calls in this thread).
    return user_create("olivia", password=PASSWORD)


@pytest.fixture
def backend(settings):
    def reply(request):
        system = request["messages"][0]["content"]
        line = next((line for line in system.splitlines() if "fridge door" in line), "")
        tag = re.match(r"\[(d:\d+)\]", line)
        assert tag, "the uploaded passage reached the prompt with its tag"
        return f"It is on a card inside the fridge door [{tag[1]}]."

    with ScriptedBackend(responder=reply) as server:
        point_profiles_at(settings, server.base_url)
        yield server


def drop(page, target: str, files: list[tuple[str, str]]) -> None:
    """What a drag of files from the desktop delivers: dragenter, dragover, drop."""
    data = page.evaluate_handle(DROP, files)
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(target, event, {"dataTransfer": data})


def test_a_file_dropped_on_the_chat_is_cited_and_its_chip_opens_the_passage(
    olivia, asgi_server, syncs_in_threads, backend, browser, screenshot_dir
):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, asgi_server, "olivia")
    page.click("button.profile-card[value=fast]")
    page.wait_for_selector("text=on your mind?")
    # Dragging over the conversation shows where to drop.
    page.dispatch_event("#messages", "dragenter", {"dataTransfer": page.evaluate_handle(DROP, [])})
    assert page.locator(".uploads-overlay").is_hidden()  # no files carried: nothing shown
    data = page.evaluate_handle(DROP, [("house.md", HOUSE)])
    page.dispatch_event("#messages", "dragenter", {"dataTransfer": data})
    assert page.locator(".uploads-overlay").is_visible()
    page.screenshot(path=screenshot_dir / "uploads-chat-drop.png")
    page.dispatch_event("#messages", "drop", {"dataTransfer": data})
    page.wait_for_selector("#upload-notice >> text=added, indexing…")
    assert page.locator(".uploads-overlay").is_hidden()
    assert "house.md added, indexing…" in page.inner_text("#upload-notice")
    page.screenshot(path=screenshot_dir / "uploads-chat-notice.png")
    uploads_url = page.get_attribute("#upload-notice a", "href")
    for thread in syncs_in_threads:  # the sync the upload queued, as a worker runs it
        thread.join(60)
    assert syncs_in_threads, "the upload queued a sync"
    page.fill("#composer textarea", "Where is the wifi password?")
    page.keyboard.press("Enter")
    page.locator(".msg-assistant.status-complete").first.wait_for(timeout=20_000)
    assert "fridge door" in page.inner_text(".msg-assistant .answer")
    assert page.inner_text("#upload-notice") == ""  # sending a message cleared it
    chip = page.locator(".chip-document").filter(has_text="house.md").first
    chip.wait_for()
    assert chip.inner_text().startswith("d:")
    page.screenshot(path=screenshot_dir / "uploads-chip.png")
    chip.click()
    page.wait_for_selector("mark")
    assert "fridge door" in page.inner_text("mark")
    assert "house.md" in page.inner_text("body")
    # The notice's link leads to the Uploads files page, where the file is indexed.
    page.goto(f"{asgi_server}{uploads_url}")
    page.locator(".conn-facts").filter(has_text="1 indexed (").wait_for()


def test_the_uploads_page_adds_files_shows_them_indexed_and_deletes_one(
    olivia, asgi_server, syncs_in_threads, browser, screenshot_dir, tmp_path
):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    sign_in(page, asgi_server, "olivia", path="/connections/")
    offer = page.locator(".conn-offer").filter(has_text="Uploads")
    offer.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "uploads-offer.png")
    offer.get_by_role("link").click()
    page.wait_for_selector("text=No uploads yet.")
    (tmp_path / "garden.txt").write_text("Tomatoes need six hours of sun.")
    (tmp_path / "house.md").write_text(HOUSE)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    page.set_input_files(
        "#uploads-input", [tmp_path / n for n in ("garden.txt", "house.md", "photo.png")]
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=garden.txt added, indexing…")
    assert "photo.png was not added: This file is a PNG image" in page.inner_text(".conn-messages")
    # The status line follows the sync and reloads the page when it is done. This
    # harness's sync thread records its run only when it starts: a page drawn before
    # that has no status line to follow, and is reloaded here once the sync is over.
    for thread in list(syncs_in_threads):
        thread.join(60)
    if not page.locator("#uploads-status").count():
        page.reload()
    page.locator(".conn-facts").filter(has_text="2 indexed (").wait_for(timeout=60_000)
    assert page.locator(".files-row").count() == 2
    page.screenshot(path=screenshot_dir / "uploads-files-page.png", full_page=True)
    row = page.locator(".files-row").filter(has_text="garden.txt")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete garden.txt").click()
    assert page.locator(".files-row").count() == 2  # dismissed: nothing deleted
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete garden.txt").click()
    page.wait_for_selector("text=Deleted garden.txt and its passages.")
    assert page.locator(".files-row").count() == 1
    assert "1 indexed (" in page.inner_text(".conn-facts")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
