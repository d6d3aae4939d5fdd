"""The calendar benchmark command runs end to end on a small calendar and cleans up."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management import call_command

from connectors.models import Connection


def test_bench_connectors_calendar_small(db, tmp_path):
    out = tmp_path / "calendar.json"
    call_command("bench_connectors", "calendar", "--events", "40", "--changes", "8",
                 "--rounds", "1", "--json", str(out))  # fmt: skip
    result = json.loads(out.read_text())
    phases = {phase["phase"]: phase for phase in result["phases"]}
    assert phases["first sync"]["added"] == result["occurrences_stored"] > 40  # some recur
    assert phases["unchanged"]["requests"] == 1
    changes = phases["8 changes"]
    assert changes["requests"] == 3 and changes["removed"] >= 2 and changes["updated"] >= 1
    assert phases["token rejected"]["requests"] == 4
    assert result["full_sync_s"] == phases["first sync"]["seconds"] > 0
    assert result["incremental_s"] == changes["seconds"]
    assert result["events_per_s"] > 0 and result["peak_rss_mb"] > 0
    assert result["query_ms"]["samples"] == 10  # one round of the ten questions
    assert 0 < result["query_ms"]["p50"] <= result["query_ms"]["p95"] <= result["query_ms"]["max"]
    assert result["query_events_injected_mean"] > 0  # the questions found events
    assert not Connection.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="bench-calendar-").exists()
