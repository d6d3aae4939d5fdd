"""`make test` runs mypy (django-stubs plugin) over inference/, strictly (the run itself
is `make test`'s step, not repeated here: it takes minutes on a cold cache)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_is_configured_strict_for_inference() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert "mypy_django_plugin.main" in config["mypy"]["plugins"]
    assert "inference" in config["mypy"]["files"]
    strict = [o for o in config["mypy"]["overrides"] if o.get("strict")]
    assert any("inference.*" in override["module"] for override in strict)
    assert config["django-stubs"]["django_settings_module"] == "assistant.settings"
    assert "/bin/mypy" in (ROOT / "Makefile").read_text()
