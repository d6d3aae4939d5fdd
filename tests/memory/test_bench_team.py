"""The scale bench's team variant: a team account's memories searched beside the user's."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from memory.models import MemoryItem

pytestmark = pytest.mark.django_db


def test_bench_scale_team_variant_reports_both_p95s_and_cleans_up(tmp_path):
    out = tmp_path / "scale.json"
    call_command(
        "bench_memory", "scale", "--per-user", "60", "--users", "2", "--pool", "20",
        "--sample", "10", "--queries", "6", "--team-items", "50", "--json", str(out),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["table_rows"] == 170
    team = result["team"]
    assert team["team_items"] == 50
    assert team["latency_ms"]["queries"] == result["latency_ms"]["queries"] == 6
    assert team["personal_p95_ms"] == result["latency_ms"]["p95"]
    assert team["delta_ms"] == pytest.approx(team["team_p95_ms"] - team["personal_p95_ms"])
    assert " OR " in team["explain"]["vector"]  # owner_id = user OR owner_id = team
    assert "vector_path" in team
    assert not get_user_model().objects.filter(username__startswith="bench-").exists()
    assert not MemoryItem.objects.exists()


def test_bench_scale_without_team_items_has_no_team_figures(tmp_path):
    out = tmp_path / "scale.json"
    call_command(
        "bench_memory", "scale", "--per-user", "20", "--users", "1", "--pool", "10",
        "--sample", "5", "--queries", "2", "--json", str(out),
    )  # fmt: skip
    assert "team" not in json.loads(out.read_text())
