"""The Celery app of a real worker that also offers the scripted kind (for the worker
tests): `celery -A tests.connectors.scripted_celery worker`. The kind reads its script
from the JSON file named by SCRIPTED_KIND_FILE on every call."""

from __future__ import annotations

import os
from pathlib import Path

import django

from assistant.celery import app  # sets DJANGO_SETTINGS_MODULE

django.setup()

from connectors.registry import kinds  # noqa: E402
from tests.connectors.scripted_kind import SLUG, ScriptedKind  # noqa: E402

kinds()[SLUG] = ScriptedKind(script_file=Path(os.environ["SCRIPTED_KIND_FILE"]))

__all__ = ["app"]
