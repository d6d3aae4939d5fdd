#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

NO_SCHEMA = (
    "The database has no tables for this yet ({reason}).\n"
    "Run `make run` (or `python manage.py migrate`) first, with the same "
    "ASSISTANT_DATA_DIR / DATABASE_URL."
)


def missing_schema(error: BaseException) -> str:
    """The PostgreSQL complaint when a table or column is missing, else ""."""
    from psycopg import errors

    cause = error.__cause__
    if isinstance(cause, (errors.UndefinedTable, errors.UndefinedColumn)):
        return str(cause).splitlines()[0]
    return ""


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import ProgrammingError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:  # a bad or missing setting: the hint says it all
        sys.stderr.write(f"ImproperlyConfigured: {error}\n")
        sys.exit(1)
    except ProgrammingError as error:
        reason = missing_schema(error)
        if not reason:
            raise
        sys.stderr.write(NO_SCHEMA.format(reason=reason) + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
