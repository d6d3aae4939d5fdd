"""inference owns the local llama.cpp launcher and the one free-port helper."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import inference
from inference.local_server import bundled_model_path, free_port, llama_server_command

INFERENCE_DIR = Path(inference.__file__).parent
OUR_APPS = ("assistant", "memory", "connectors", "django", "scripted_backend")


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_llama_server_command_pins_host_and_port() -> None:
    command = llama_server_command("/models/tiny.gguf", 8123, n_ctx=1024)
    assert command[:3] == ["env", "PORT=8123", "HOST=127.0.0.1"]
    assert command[command.index("--port") + 1] == "8123"
    assert command[command.index("--n_ctx") + 1] == "1024"
    assert command[-1] == "tiny"
    assert bundled_model_path().endswith(".gguf")


def test_inference_imports_no_app_of_ours() -> None:
    for path in INFERENCE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in OUR_APPS, f"{path.name} imports {name}"


def test_no_other_module_defines_the_launcher_or_a_free_port() -> None:
    root = INFERENCE_DIR.parent
    packages = ("assistant", "memory", "connectors", "inference", "scripted_backend", "tests")
    patterns = ("def free_port", "def _free_port", "class LocalLLMServer", 'bind(("127.0.0.1", 0))')
    offenders = [
        str(path.relative_to(root))
        for package in packages
        for path in (root / package).glob("**/*.py")
        if path.name != "local_server.py"
        and path != Path(__file__)
        and any(pattern in path.read_text() for pattern in patterns)
    ]
    assert offenders == []
