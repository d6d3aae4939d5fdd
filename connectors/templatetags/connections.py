"""Small template filters for the connections pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now" under a minute, else "5 minutes ago" ("" for no time)."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def marked(headline: str) -> str:
    """A passage's search headline: escaped, with its matched words in <mark>
    (connectors/documents/selectors.py marks them with control characters)."""
    from connectors.documents.selectors import MARK_START, MARK_STOP

    text = conditional_escape(headline or "")
    return mark_safe(text.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>"))


@register.filter
def is_web_link(url: str) -> bool:
    """Only http(s) addresses become links (a stored URL is data from a server)."""
    return (url or "").lower().startswith(("http://", "https://"))
