"""The connections page in Chromium: the empty state, adding a connection through its
form, the live status line while a sync runs (the poller stops itself when it is done),
and the list afterwards. Screenshots go to the data dir's screenshots/ folder."""

from __future__ import annotations

import pytest

from tests.connectors.scripted_kind import ics, scripted_kind_fixture  # noqa: F401
from tests.e2e.conftest import sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SECRET = "hunter2-but-longer"


@pytest.fixture
def olivia(transactional_db):
    return user_create("olivia")


def test_add_a_connection_and_watch_it_sync(
    olivia, asgi_server, scripted_kind, syncs_in_threads, browser, screenshot_dir, tmp_path
):
    release = tmp_path / "release"
    script = scripted_kind.script
    script.calendars = {"work": "Work", "home": "Family"}
    script.objects = {
        "work": {"w1.ics": ics("w1", "Standup"), "w2.ics": ics("w2", "Review", days_from_now=2)},
        "home": {"h1.ics": ics("h1", "Dentist", days_from_now=3)},
    }
    script.hold, script.release_file = "work", str(release)  # Family syncs, Work waits
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    sign_in(page, asgi_server, "olivia", path="/connections/")
    page.wait_for_selector("text=Nothing connected yet.")
    page.screenshot(path=screenshot_dir / "connections-empty.png", full_page=True)

    offer = page.locator(".conn-offer").filter(has=page.get_by_text("Scripted calendar"))
    offer.get_by_role("link", name="Connect").click()
    # A failed test connection says where and what the server answered.
    script.connect_error = {
        "permanent": True, "message": "The server refused the user name or password.",
        "url": "https://cal.example.org/dav/", "status": 401,
        "hint": "Use an app password if your account has two-step sign-in.",
    }  # fmt: skip
    page.fill("input[name=url]", "https://cal.example.org/dav/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".conn-error:has-text('The server answered: HTTP 401')")
    assert page.input_value("input[name=password]") == ""
    page.screenshot(path=screenshot_dir / "connection-add-error.png", full_page=True)

    script.connect_error = None
    page.fill("input[name=password]", SECRET)
    page.click("button[type=submit]")

    # The detail page polls while the sync runs: Family is done, Work is still going.
    page.wait_for_selector("#sync-status:has-text('Syncing: 1 of 2 calendars done')")
    page.screenshot(path=screenshot_dir / "connection-syncing.png", full_page=True)
    release.touch()
    page.wait_for_selector("#sync-status:has-text('3 events')", timeout=30_000)
    page.wait_for_selector("#sync-status .conn-badge-ok")
    assert page.locator("#sync-status[hx-trigger]").count() == 0  # the poller stopped
    assert SECRET not in page.content()
    page.reload()
    page.screenshot(path=screenshot_dir / "connection-detail.png", full_page=True)

    page.click("text=Connections")
    page.wait_for_selector(".conn-card")
    assert "2 of 2 calendars included" in page.inner_text(".conn-card")
    page.screenshot(path=screenshot_dir / "connections-index.png", full_page=True)
