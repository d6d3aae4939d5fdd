"""Database access from async code without holding a connection across awaits."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

P = ParamSpec("P")
R = TypeVar("R")


def pooled() -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))


def release_connection() -> None:
    """Hand this thread's connection back to the pool (a no-op cost with pooling).

    A streaming answer lives for seconds to minutes; holding a connection for all of
    it would cap concurrent streams at the pool size."""
    if pooled() and not connection.in_atomic_block:
        connection.close()


def db_async(fn: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a sync ORM function from async code, then release the connection."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        finally:
            release_connection()

    return sync_to_async(run)
