"""The memory page and a memory's own page share one frame: memory/base.html."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory.services import memory_create

pytestmark = pytest.mark.django_db


def _frame(response) -> list[str]:
    return [t.name for t in response.templates if t.name and t.name.startswith("memory/")]


def test_page_and_detail_extend_the_one_memory_base(owner_client, owner):
    item = memory_create(
        owner=owner, text="Olivia keeps bees.", actor="user", kind="fact", source="stated"
    )
    page = owner_client.get(reverse("memory:index"))
    detail = owner_client.get(reverse("memory:detail", args=[item.pk]))
    for response, own in ((page, "memory/page.html"), (detail, "memory/detail.html")):
        names = _frame(response)
        assert names[:3] == [own, "memory/base.html", "memory/topbar.html"], names
        html = response.content.decode()
        assert html.count("memory/memory.css") == 1 and html.count("memory/memory.js") == 1
        assert html.count('<header class="memory-topbar">') == 1
        assert html.count('<main class="memory-main"') == 1 and html.count("</main>") == 1
    page_html, detail_html = page.content.decode(), detail.content.decode()
    assert "<title>Memory · Recall</title>" in page_html
    assert f"<title>{item.tag} · Memory · Recall</title>" in detail_html
    assert '<main class="memory-main">\n    <p class="memory-lede' in page_html
    assert '<main class="memory-main" hx-vals=\'{"view": "detail"}\'>' in detail_html
    assert "← All memories" in detail_html and "memory-lede" not in detail_html
