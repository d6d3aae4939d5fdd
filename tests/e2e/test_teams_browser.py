"""Teams in Chromium: an owner creates a team and an invitation link; a newcomer opens it,
joins, and switches the chat header to the team; screenshots of both pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from assistant.teams.models import Membership
from tests.assistant.teams.personas import person

pytestmark = pytest.mark.e2e


def signed_in(browser, server: str, user):
    """A browser context carrying `user`'s session (made by Django's test client)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server}])
    return context.new_page()


def test_invite_join_and_switch(transactional_db, asgi_server, browser, screenshot_dir):
    owner, newcomer = person("tess"), person("nia")
    page = signed_in(browser, asgi_server, owner)
    page.goto(f"{asgi_server}/teams/")
    page.fill("input[name=name]", "Lighthouse")
    page.click("button:has-text('Create')")
    page.wait_for_selector("h2:has-text('Lighthouse')")
    page.select_option("select[name=role]", "member")
    page.fill("input[name=email]", "")
    page.click("button:has-text('Create invitation')")
    link = page.input_value(".teams-link", timeout=10_000)
    assert "/teams/join/" in link

    other = signed_in(browser, asgi_server, newcomer)
    other.goto(link)
    assert "Join Lighthouse" in other.inner_text("h2")
    other.click("button:has-text('Join Lighthouse')")
    other.wait_for_selector("#members")
    assert Membership.objects.filter(user=newcomer, team__name="Lighthouse").exists()

    page.reload()
    page.screenshot(path=screenshot_dir / "teams-detail.png", full_page=True)

    other.goto(f"{asgi_server}/")
    assert other.locator("#team-switch").input_value() == ""
    other.select_option("#team-switch", label="Lighthouse")
    other.wait_for_selector("#team-switch option[selected]:has-text('Lighthouse')")
    other.wait_for_load_state()
    other.locator("#team-switch").focus()
    other.screenshot(path=screenshot_dir / "teams-switcher.png")
    assert other.locator("#team-switch option:checked").inner_text() == "Lighthouse"
