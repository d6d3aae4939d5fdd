"""Template side of memory/tags.py: `{{ item.supersedes_id|memory_citation }}` -> [m:42]."""

from __future__ import annotations

from django import template

from memory.tags import memory_citation as _memory_citation

register = template.Library()


@register.filter
def memory_citation(pk: int) -> str:
    return _memory_citation(pk)
