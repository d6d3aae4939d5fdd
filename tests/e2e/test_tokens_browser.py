"""API tokens in Chromium: a member makes a token for their team (the date field shows only
for "On a date"), copies the secret shown once, and finds it gone from the list; the
team's owner revokes it from the team's token page after confirming. No CSP violations;
screenshots of the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.teams.services import team_create
from tests.assistant.teams.personas import join, person
from tests.e2e.conftest import session_of, signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def setup(transactional_db) -> dict:
    """Tess owns Lighthouse, Max is a member (made before the browser starts: no ORM calls
    after it)."""
    tess, max_ = person("tess"), person("max")
    team = team_create(actor=tess, name="Lighthouse")
    join(team, tess, max_)
    return {"team": team.pk, "tess": session_of(tess), "max": session_of(max_)}


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return errors


def test_make_copy_and_revoke_a_team_token(setup, asgi_server, browser, screenshot_dir):
    page = signed_in(browser, asgi_server, setup["max"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=asgi_server)
    errors = _csp_errors(page)
    page.goto(f"{asgi_server}/account/")
    page.click("a:has-text('API tokens')")
    page.wait_for_selector("h1:has-text('API tokens')")
    assert "You have no tokens yet" in page.inner_text("main")

    page.fill("input[name=name]", "laptop editor")
    page.check("input[name=scopes][value=chat]")
    page.check("input[name=scopes][value='memory:read']")
    page.select_option("select[name=team]", label="Lighthouse")
    assert page.is_hidden("input[name=expiry_date]")
    page.select_option("select[name=expiry]", "date")
    assert page.is_visible("input[name=expiry_date]")
    day = (timezone.localdate() + timedelta(days=14)).isoformat()
    page.fill("input[name=expiry_date]", day)
    page.screenshot(path=screenshot_dir / "tokens-form.png", full_page=True)
    page.click("button:has-text('Create token')")
    page.wait_for_selector(".tokens-secret")
    secret = page.input_value("#new-token")
    assert secret.startswith("rk_")
    assert "won't see it again" in page.inner_text(".tokens-secret")
    page.click("button[data-copy]")
    page.wait_for_selector("[data-copied]:visible")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=screenshot_dir / "tokens-created.png", full_page=True)

    page.goto(f"{asgi_server}/account/tokens/")
    assert secret not in page.content()
    assert "laptop editor" in page.inner_text(".tokens-table")
    assert "team: Lighthouse" in page.inner_text(".tokens-table")
    # Dismissing the confirmation revokes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Revoke')")
    assert page.inner_text(".tokens-status") == "active"
    page.screenshot(path=screenshot_dir / "tokens-list.png", full_page=True)

    owner = signed_in(browser, asgi_server, setup["tess"])
    owner_errors = _csp_errors(owner)
    owner.goto(f"{asgi_server}/teams/{setup['team']}/")
    owner.click("a:has-text('API tokens')")
    owner.wait_for_selector("h1:has-text('API tokens reaching Lighthouse')")
    assert "max" in owner.inner_text(".token-user") and secret not in owner.content()
    owner.once("dialog", lambda dialog: dialog.accept())
    owner.click("button:has-text('Revoke')")
    owner.wait_for_selector(".tokens-status-revoked")
    assert "is revoked" in owner.inner_text(".tokens-messages")
    owner.screenshot(path=screenshot_dir / "tokens-team.png", full_page=True)

    page.goto(f"{asgi_server}/account/tokens/")
    assert page.inner_text(".tokens-status") == "revoked"
    assert errors == [] and owner_errors == []
