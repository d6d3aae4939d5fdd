"""Teams in Chromium: an owner creates a team and an invitation link; a newcomer opens it,
joins, and switches the chat header to the team; screenshots of both pages."""

from __future__ import annotations

import pytest

from tests.assistant.teams.personas import person
from tests.e2e.conftest import session_of, signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def sessions(transactional_db) -> dict[str, str]:
    """Signed-in sessions (made before the browser starts: no ORM calls after it)."""
    return {name: session_of(person(name)) for name in ("tess", "nia")}


def test_invite_join_and_switch(sessions, asgi_server, browser, screenshot_dir):
    page = signed_in(browser, asgi_server, sessions["tess"])
    page.goto(f"{asgi_server}/teams/")
    page.fill("input[name=name]", "Lighthouse")
    page.click("button:has-text('Create')")
    page.wait_for_selector("h2:has-text('Lighthouse')")
    page.select_option("select[name=role]", "member")
    page.click("button:has-text('Create invitation')")
    page.wait_for_selector(".teams-link")
    link = page.input_value(".teams-link")
    assert "/teams/join/" in link

    other = signed_in(browser, asgi_server, sessions["nia"])
    other.goto(link)
    assert "Join Lighthouse" in other.inner_text("h2")
    other.click("button:has-text('Join Lighthouse')")
    other.wait_for_selector("#members")
    assert "nia" in other.inner_text(".teams-members")
    other.goto(link)  # the link is used up
    assert "already been used" in other.inner_text("main")

    page.goto(f"{asgi_server}/teams/")
    page.click("a.teams-name")
    page.wait_for_selector("#members")
    assert "nia" in page.inner_text(".teams-members")
    page.screenshot(path=screenshot_dir / "teams-detail.png", full_page=True)

    other.goto(f"{asgi_server}/")
    assert other.locator("#team-switch").input_value() == ""
    other.select_option("#team-switch", label="Lighthouse")
    other.wait_for_selector(
        "#team-switch option[selected]:has-text('Lighthouse')", state="attached"
    )
    assert other.locator("#team-switch option:checked").inner_text() == "Lighthouse"
    other.screenshot(path=screenshot_dir / "teams-switcher.png")
