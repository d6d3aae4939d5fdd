"""Tests make people and memories through tests/factories.py, not a helper per module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from memory.models import MemoryItem
from tests.factories import remember, remember_many, user_create

TESTS = Path(__file__).parent


def _test_modules() -> list[Path]:
    return [path for path in TESTS.glob("**/*.py") if path.name != "factories.py"]


def test_no_module_creates_users_or_memories_its_own_way() -> None:
    offenders = []
    for path in _test_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("remember"):
                continue
            calls = {
                call.func.id if isinstance(call.func, ast.Name) else ""
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
            }
            if calls & {"memory_create", "memory_bulk_create"}:
                offenders.append(f"{path.relative_to(TESTS)}:{node.name}")
        if ".objects.create_user(" in path.read_text() and path != Path(__file__):
            offenders.append(f"{path.relative_to(TESTS)}: create_user")
    assert offenders == []


@pytest.mark.django_db
def test_factories_make_a_user_and_their_memories() -> None:
    user = user_create("frida")
    one = remember(user, "Frida grows chillies on the balcony.")
    many = remember_many(user, ["Frida has a cat.", "Frida cycles to work."])
    assert (one.kind, one.source, one.owner_id) == ("fact", "stated", user.pk)
    assert MemoryItem.objects.filter(owner=user).count() == 1 + len(many) == 3
