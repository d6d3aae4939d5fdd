"""`make test` runs mypy (django-stubs plugin): strictly over inference/, and over the
services, selectors, search, consolidation and background packages (the run itself is
`make test`'s step, not repeated here: it takes minutes on a cold cache)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRICT_FLAGS = (
    "disallow_untyped_defs",
    "disallow_incomplete_defs",
    "disallow_untyped_calls",
    "disallow_any_generics",
    "warn_return_any",
)


def test_mypy_covers_inference_strictly_and_the_services() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert "mypy_django_plugin.main" in config["mypy"]["plugins"]
    files = set(config["mypy"]["files"])
    assert {"inference", "memory/services", "memory/selectors.py", "assistant/services"} <= files
    assert {"assistant/selectors.py", "assistant/background", "memory/consolidation"} <= files
    inference = [o for o in config["mypy"]["overrides"] if "inference.*" in o["module"]]
    assert inference and all(inference[0].get(flag) is True for flag in STRICT_FLAGS)
    assert config["django-stubs"]["django_settings_module"] == "assistant.settings"
    assert "/bin/mypy" in (ROOT / "Makefile").read_text()
