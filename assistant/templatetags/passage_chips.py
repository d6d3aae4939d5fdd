"""The chip of a file passage under an answer: which file, which part of it."""

from __future__ import annotations

from django import template

from assistant.services.document_context import CitedPassage, cited_passages

register = template.Library()


@register.filter(name="cited_passages")
def cited_passages_filter(items) -> list[CitedPassage]:
    """`{% for cited in message.used_passages|cited_passages %}`: an answer's chips, each
    saying which part of its file it is, even among passages of one section."""
    return cited_passages(list(items))
