"""Markdown for answers: rendered by markdown-it (raw HTML off), then sanitised by nh3."""

from functools import lru_cache

import nh3
from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from assistant.csp import TABLE_ALIGN_STYLES

register = template.Library()

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "th": {"style"}, "td": {"style"}}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep a style attribute only as a table column's alignment, in the exact form the
    Content-Security-Policy allows by hash (assistant/csp.py); drop any other style."""
    if attribute != "style":
        return value
    for declaration in value.split(";"):
        prop, _, setting = declaration.partition(":")
        style = f"{prop.strip().lower()}:{setting.strip().lower()}"
        if style in TABLE_ALIGN_STYLES:
            return style
    return None


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        filter_style_properties={"text-align"},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def markdown_to_safe_html(text: str) -> str:
    return sanitize_html(_parser().render(text or ""))


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    return mark_safe(markdown_to_safe_html(text))
