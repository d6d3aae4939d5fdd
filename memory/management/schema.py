"""A friendly stop for commands run before the database schema exists."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

HINT = "Run `make run` (or `python manage.py migrate`) first, with the same ASSISTANT_DATA_DIR."


def require_schema(database: str = DEFAULT_DB_ALIAS) -> None:
    """Raise CommandError (no traceback) when migrations are missing or not applied."""
    executor = MigrationExecutor(connections[database])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CommandError(
            f"The database is not set up yet ({len(plan)} migrations not applied). {HINT}"
        )
