"""A drive connection's files page in Chromium: indexed and skipped files with their
reasons, a search over the passages (htmx swaps in the results), re-index. Synced from
WsgiDAV. The screenshot goes to the data dir's screenshots/ folder."""

from __future__ import annotations

import pytest

from assistant.background.syncs import connection_sync_run
from tests.connectors.drive.conftest import connect
from tests.connectors.drive.dav_server import dav_server
from tests.e2e.conftest import sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def olivia(transactional_db):
    return user_create("olivia")


@pytest.fixture
def drive(olivia, tmp_path, settings):
    """A synced WebDAV connection (made before the browser starts: Playwright's loop then
    keeps the ORM off this thread), its server up for the test."""
    settings.DOCUMENT_MAX_BYTES = 64 * 1024
    with dav_server(tmp_path / "files") as dav:
        dav.write("Notes/garden.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May.")
        dav.write("Notes/readme.md", "# Readme\n\nThe wifi password is on the fridge.")
        dav.write("Reports/a very long folder name/quarterly numbers.txt", "Sales grew 4%.")
        dav.write("Other/big.txt", "word " * 20_000)
        dav.write("Other/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
        connection = connect(olivia, dav)
        connection_sync_run(connection_id=connection.pk)
        yield connection


def test_the_files_page_shows_why_and_searches(
    drive, asgi_server, syncs_in_threads, browser, screenshot_dir
):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    sign_in(page, asgi_server, "olivia", path=f"/connections/{drive.pk}/")
    assert "Folders" in page.inner_text("#conn-sources")
    page.screenshot(path=screenshot_dir / "drive-detail.png", full_page=True)
    page.get_by_role("link", name="Files", exact=True).click()
    page.wait_for_selector("text=3 indexed")
    assert page.locator(".files-row").count() == 5
    big = page.locator(".files-row").filter(has_text="Other/big.txt")
    assert "DOCUMENT_MAX_BYTES" in big.inner_text()
    page.fill("input[name=q]", "fridge")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector(".files-passages mark")
    assert page.inner_text(".files-passages mark") == "fridge"
    page.screenshot(path=screenshot_dir / "files-page.png", full_page=True)
    row = page.locator(".files-row").filter(has_text="Notes/garden.txt")
    row.get_by_role("button", name="Re-index").click()
    page.wait_for_selector("text=will be read again")
    for thread in syncs_in_threads:
        thread.join(30)
    page.reload()  # (the ORM is not for this thread once Playwright's loop runs)
    assert "Waiting to be read" not in row.inner_text() and "Indexed" in row.inner_text()
    # Phone width: nothing scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
