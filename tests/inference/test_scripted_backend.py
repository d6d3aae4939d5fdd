"""The scripted backend is test support: an ASGI app under uvicorn, outside the wheel."""

from __future__ import annotations

import contextlib
import logging
import threading
import tomllib
from pathlib import Path

import httpx
import setuptools

from scripted_backend import ScriptedBackend

ROOT = Path(__file__).resolve().parents[2]


def test_scripted_backend_is_not_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = setuptools.find_packages(where=str(ROOT), include=include)
    assert "inference" in shipped
    assert not [name for name in shipped if name.startswith("scripted_backend")]
    assert not (ROOT / "inference" / "testing.py").exists()
    assert not (ROOT / "inference" / "_scripted_http.py").exists()


def test_drop_and_stop_leave_no_server_errors(caplog) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn")
    backend = ScriptedBackend().start()
    backend.script([[("drop",)], [{"content": "half"}, ("drop",)], [("sleep", 60), "late"]])
    url = f"{backend.base_url}/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    for _ in range(2):
        try:
            with httpx.stream("POST", url, json=body, timeout=5) as response:
                response.read()
        except httpx.RemoteProtocolError:
            pass
        else:
            raise AssertionError("a scripted drop must close the connection, not answer")

    waiting = threading.Thread(target=lambda: _post_ignoring_errors(url, body), daemon=True)
    waiting.start()
    while backend.in_flight == 0:  # the 60 s sleep is being served
        waiting.join(0.01)
    backend.stop()  # drops the sleeping request instead of waiting a minute for it
    waiting.join(30)
    assert not waiting.is_alive()
    assert [request.dropped for request in backend.requests] == [True, True, False]
    errors = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert errors == []


def _post_ignoring_errors(url: str, body: dict) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, json=body, timeout=120)
