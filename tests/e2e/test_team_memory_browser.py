"""Governed team memory in Chromium, end to end: an admin invites a member, the member
proposes one of their memories to the team, the admin accepts it in the team's review
inbox, and the member's next answer in the team shows it as a team chip."""

from __future__ import annotations

import pytest

from tests.assistant.teams.personas import person
from tests.e2e.conftest import session_of, signed_in

pytestmark = pytest.mark.e2e

FACT = "The staging server of the lighthouse project is called kestrel."


@pytest.fixture
def sessions(transactional_db) -> dict[str, str]:
    """Signed-in sessions and the member's own memory, made before the browser starts
    (no ORM calls after it)."""
    from memory.services.items import memory_create

    tess, nia = person("tess"), person("nia")
    memory_create(owner=nia, text=FACT, kind="fact", source="stated", actor="user")
    return {"tess": session_of(tess), "nia": session_of(nia)}


def work_in(page, server: str, team: str) -> None:
    """Switch the chat header to `team`."""
    page.goto(f"{server}/")
    page.select_option("#team-switch", label=team)
    page.wait_for_selector(f"#team-switch option[selected]:has-text('{team}')", state="attached")


def test_invite_propose_accept_and_answer_with_a_team_chip(
    sessions, asgi_server, backend, browser, screenshot_dir
):
    admin = signed_in(browser, asgi_server, sessions["tess"])
    admin.goto(f"{asgi_server}/teams/")
    admin.fill("input[name=name]", "Lighthouse")
    admin.click("button:has-text('Create')")
    admin.wait_for_selector("h2:has-text('Lighthouse')")
    admin.select_option("select[name=role]", "member")
    admin.click("button:has-text('Create invitation')")
    admin.wait_for_selector(".teams-link")
    link = admin.input_value(".teams-link")

    member = signed_in(browser, asgi_server, sessions["nia"])
    member.goto(link)
    member.click("button:has-text('Join Lighthouse')")
    member.wait_for_selector("#members")
    work_in(member, asgi_server, "Lighthouse")

    # The member proposes their own memory; it stays theirs, a copy waits for review.
    member.goto(f"{asgi_server}/memory/")
    member.click("button:has-text('Propose to team Lighthouse')")
    member.locator(".propose-team [role=status]").wait_for()
    assert "Lighthouse" in member.inner_text(".propose-team [role=status]")

    # The admin accepts it in the team's review inbox.
    work_in(admin, asgi_server, "Lighthouse")
    admin.goto(f"{asgi_server}/team/memory/")
    proposal = admin.locator("#inbox article.memory-item").filter(has_text="kestrel")
    proposal.wait_for()
    assert "nia" in proposal.inner_text()  # who proposed it
    admin.screenshot(path=screenshot_dir / "team-memory-inbox.png", full_page=True)
    proposal.locator("button:has-text('Accept')").first.click()
    admin.locator("#memory-results").filter(has_text="kestrel").wait_for()
    admin.screenshot(path=screenshot_dir / "team-memory.png", full_page=True)

    # The member's next answer in the team shows the team's copy as a team chip.
    member.goto(f"{asgi_server}/")
    member.click("button.profile-card[value=fast]")
    member.fill("#composer textarea", "What is the staging server of the lighthouse project?")
    member.keyboard.press("Enter")
    chip = member.locator(".chips .chip-team-memory").first
    chip.wait_for(timeout=20_000)
    assert "team" in chip.inner_text().lower()
    assert "kestrel" in chip.get_attribute("title")
    member.screenshot(path=screenshot_dir / "team-chip.png")
    chip.click()
    member.wait_for_url("**/memories/*/")
    assert "kestrel" in member.inner_text("main")
    member.screenshot(path=screenshot_dir / "team-chip-memory.png")
    member.click("button:has-text('Open it in Lighthouse')")
    member.wait_for_url("**/team/memory/*/")
    assert "kestrel" in member.content()
