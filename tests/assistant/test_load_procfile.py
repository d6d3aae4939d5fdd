"""`make run`'s web line: uvicorn with --workers WEB_CONCURRENCY (default one per core),
and the embedded PostgreSQL and Redis on lines of their own (started once, not per worker)."""

from __future__ import annotations

import os
import shlex
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from assistant.management.commands.procfile import cpu_count, web_workers


def procfile(settings) -> dict[str, list[str]]:
    out = StringIO()
    call_command("procfile", "--host", "0.0.0.0", "--port", "8123", stdout=out)
    lines = {}
    for line in out.getvalue().splitlines():
        name, command = line.split(": ", 1)
        lines[name] = shlex.split(command)
    return lines


def workers_of(command: list[str]) -> int:
    return int(command[command.index("--workers") + 1])


def test_the_web_line_runs_web_concurrency_workers(settings, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    web = procfile(settings)["web"]
    assert web[1:4] == ["-m", "uvicorn", "assistant.asgi:application"]
    assert workers_of(web) == 3
    assert web[web.index("--port") + 1] == "8123"
    assert web[web.index("--host") + 1] == "0.0.0.0"


def test_one_worker_per_core_by_default(settings, monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert workers_of(procfile(settings)["web"]) == cpu_count()
    assert cpu_count() == len(os.sched_getaffinity(0))  # the cores we may use, not the host's


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_web_concurrency_fails_loudly(monkeypatch, value):
    monkeypatch.setenv("WEB_CONCURRENCY", value)
    with pytest.raises(ImproperlyConfigured, match="WEB_CONCURRENCY"):
        web_workers()


def test_embedded_services_start_once_beside_the_workers(settings, monkeypatch):
    """PostgreSQL and Redis have their own Procfile lines: every worker attaches to them."""
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    settings.EMBEDDED_POSTGRES = True
    settings.EMBEDDED_REDIS = True
    settings.EMBEDDED_LLM = False
    lines = procfile(settings)
    assert list(lines) == ["postgres", "redis", "web", "worker", "beat"]
    assert sum("uvicorn" in command for command in lines.values()) == 1
