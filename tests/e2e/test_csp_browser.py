"""The pages work under the enforced Content-Security-Policy, and nothing violates it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory.services import memory_create
from scripted_backend import ScriptedBackend
from tests.conftest import point_profiles_at
from tests.e2e.conftest import PASSWORD, sign_in
from tests.factories import user_create

pytestmark = pytest.mark.e2e

TABLE = "| tea | cups |\n|:--|--:|\n| genmaicha | 2 |\n| sencha | 1 |\n"

# Records every violation the page reports; runs in each new document before its scripts.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sample || ""));
});
"""


def tea_reply(request):
    return [
        {"reasoning_content": "Counting "},
        {"reasoning_content": "the cups."},
        {"content": "Here is the **count**:\n\n"},
        {"content": TABLE},
    ]


@pytest.fixture
def olivia(transactional_db):
    user = user_create("olivia", password=PASSWORD)
    memory_create(
        text="Olivia drinks genmaicha every morning.",
        kind="preference",
        source="stated",
        owner=user,
        actor="user",
    )
    memory_create(
        text="Olivia is learning Portuguese.",
        kind="fact",
        source="extracted",
        status="proposed",
        owner=user,
        actor="assistant",
    )
    return user


@pytest.fixture
def tea_backend(settings):
    with ScriptedBackend(responder=tea_reply, chunk_delay_s=0.05) as server:
        point_profiles_at(settings, server.base_url)
        yield server


def watch_csp(page) -> list[str]:
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(WATCH)
    return console


def assert_no_violations(page, console: list[str]) -> None:
    assert console == []
    assert page.evaluate("window.__csp") == []


def test_chat_and_memory_work_under_the_csp(olivia, asgi_server, tea_backend, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    console = watch_csp(page)

    response = page.goto(f"{asgi_server}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "content-security-policy-report-only" not in response.headers
    assert_no_violations(page, console)
    sign_in(page, asgi_server, "olivia")
    page.wait_for_selector("text=Start a conversation")
    assert_no_violations(page, console)

    # Send a message; the table in the answer keeps its (hash-allowed) alignment.
    page.click("button.profile-card[value=thinking]")
    page.wait_for_selector("text=on your mind?")
    page.fill("#composer textarea", "How many cups of tea?")
    page.keyboard.press("Enter")
    # The answer arrives over SSE; its final frame swaps in the finished message, no reload.
    page.locator(".msg-assistant.status-complete").wait_for(timeout=60_000)
    assert page.locator(".msg-assistant summary").inner_text().startswith("Thought for")
    answer = page.locator(".msg-assistant .answer")
    assert "count" in answer.locator("strong").inner_text()
    cell = answer.locator("td").nth(1)
    assert cell.inner_text() == "2"
    assert cell.evaluate("el => getComputedStyle(el).textAlign") == "right"
    assert page.locator("#composer textarea").input_value() == ""

    # The inspector opens (formerly hx-on) and closes (formerly onclick).
    dialog = page.locator("#inspector")
    page.get_by_role("button", name="Inspect context").click()
    dialog.locator("text=What the model saw").wait_for()
    expect(dialog).to_have_attribute("open", "")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).not_to_have_attribute("open", "")
    assert_no_violations(page, console)

    # The memory page: review, add, forget and undo, pause.
    page.goto(f"{asgi_server}/memory/")
    inbox = page.locator("#inbox")
    inbox.locator(".memory-item").filter(has_text="Portuguese").get_by_role(
        "button", name="Accept", exact=True
    ).click()
    inbox.filter(has_text="Accepted.").wait_for()
    results = page.locator("#memory-results")
    results.filter(has_text="Portuguese").wait_for()

    page.fill("#add-text", "Olivia keeps bees.")
    page.click("#add-form button[type=submit]")
    page.locator("#add-form").filter(has_text="Remembered.").wait_for()
    card = results.locator(".memory-item").filter(has_text="keeps bees")
    card.get_by_role("button", name="Edit").click()
    expect(page.locator("form.editing textarea")).to_be_focused()
    page.locator("form.editing textarea").fill("Olivia keeps two beehives.")
    page.locator("form.editing").get_by_role("button", name="Save").click()
    card = results.locator(".memory-item").filter(has_text="two beehives")
    card.get_by_role("button", name="Forget", exact=True).click()
    notice = results.locator(".memory-item.forgotten")
    notice.get_by_role("button", name="Undo").click()
    results.locator(".memory-item:not(.forgotten)").filter(has_text="two beehives").wait_for()

    page.click("input[name=paused]", force=True)
    page.locator(".memory-banner").filter(has_text="Memory is paused.").wait_for()
    assert_no_violations(page, console)

    # The watch is live: an injected inline script is blocked and reported.
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__inlineRan = true";
          document.head.appendChild(s);
        }"""
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__inlineRan") is None
    assert "script-src" in page.evaluate("window.__csp")[0]
