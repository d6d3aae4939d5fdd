"""The layout rules of README.md's "Layout" map, checked on the source tree: background
work has one home, and memory never imports the assistant."""

from __future__ import annotations

import ast
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / "assistant" / "background"
SHIPPED = ("assistant", "memory", "connectors", "inference")
# Writing TaskRun rows and Celery bookkeeping: only the background-work home may do it.
BOOKKEEPING = ("assistant.background.models", "assistant.background.runs", "celery.signals")


def _modules(*parts: str):
    for part in parts:
        for path in sorted((ROOT / part).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _defines_celery_task(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name in ("shared_task", "task"):
                    return True
    return False


def _inside(path: Path, folder: Path) -> bool:
    return folder in path.parents


def test_memory_never_imports_the_assistant():
    offenders = [
        str(path.relative_to(ROOT))
        for path, tree in _modules("memory")
        if any(name == "assistant" or name.startswith("assistant.") for name in _imports(tree))
    ]
    assert offenders == []


def test_celery_tasks_are_defined_only_in_the_background_home():
    defining = {
        str(path.relative_to(ROOT))
        for path, tree in _modules(*SHIPPED)
        if _defines_celery_task(tree)
    }
    assert defining == {"assistant/background/tasks.py"}


def test_task_run_bookkeeping_lives_only_in_the_background_home():
    """Outside the home, code reads runs at most (selectors, benchmarks, the app wiring)."""
    writers = []
    for path, tree in _modules(*SHIPPED):
        if _inside(path, HOME):
            continue
        used = {name for name in _imports(tree) if name.startswith(BOOKKEEPING)}
        if "celery.signals" in used or any(name.startswith(BOOKKEEPING[1]) for name in used):
            writers.append(str(path.relative_to(ROOT)))
    assert writers == []


def test_task_names_and_the_status_url_did_not_move():
    from assistant.background import tasks
    from assistant.celery import app

    names = {
        "conversation_summarise",
        "conversations_sweep",
        "answers_close_stale",
        "memory_import",
    }
    for name in names:
        assert getattr(tasks, name).name == f"assistant.tasks.{name}"
    app.loader.import_default_modules()
    assert {f"assistant.tasks.{name}" for name in names} <= set(app.tasks)
    assert reverse("background-status") == "/memory/background"


def test_extraction_and_reconciliation_share_one_normalisation():
    from memory.consolidation import extract, reconcile

    assert reconcile.normalised is extract.normalised
    assert extract.normalised("  Oat-milk,   please!! ") == "oat milk please"
