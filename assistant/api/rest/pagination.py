"""Limit/offset pages with the total and the next page's URL."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest


def page_of(
    request: HttpRequest, rows: QuerySet, *, limit: int, offset: int
) -> tuple[dict[str, Any], list]:
    """({total, limit, offset, next}, the page's rows)."""
    total = rows.count()
    page = list(rows[offset : offset + limit])
    next_url = None
    if offset + limit < total:
        query = request.GET.copy()
        query["limit"] = str(limit)
        query["offset"] = str(offset + limit)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"total": total, "limit": limit, "offset": offset, "next": next_url}, page
