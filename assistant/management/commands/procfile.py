"""Print the Procfile for this configuration: embedded services only where their URL is unset."""

import os
import shlex
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from assistant import embedded
from assistant.config import env_int
from inference import local_server


def cpu_count() -> int:
    """The cores this process may run on (its affinity mask, not the host's total)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def web_workers() -> int:
    """WEB_CONCURRENCY web processes, default one per core. Each loads its own copy of the
    embedding model (README.md, "Several web workers"); the embedded PostgreSQL and Redis
    are started once, by their own Procfile lines, and every worker attaches to them."""
    return env_int("WEB_CONCURRENCY", cpu_count(), minimum=1)


# uvicorn's supervisor kills a worker that does not answer its ping within this many
# seconds (default 5) and every stream on it dies. Under a burst of sign-ins (password
# hashing holds the GIL) on a saturated host a healthy worker answered late and was
# killed (the load test's errors at 50+ users, BENCHMARKS.md); 30 s still replaces a
# hung one.
WORKER_HEALTHCHECK_S = 30
# Idle keep-alive connections stay open this long (uvicorn's default: 5 s). A client or
# proxy that reuses one just as the server closes it gets "connection closed without
# response" on a POST it cannot safely retry: the load test's one error at 200 users
# with 5-15 s pauses, and a 502 behind a proxy. It must outlast the proxy's own idle
# timeout (ingress-nginx and most load balancers: 60 s).
KEEP_ALIVE_S = 75


def web_command(*, host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "assistant.asgi:application", "--host", host,
            "--port", str(port), "--workers", str(workers),
            "--timeout-worker-healthcheck", str(WORKER_HEALTHCHECK_S),
            "--timeout-keep-alive", str(KEEP_ALIVE_S),
            "--timeout-graceful-shutdown", "5"]  # fmt: skip


def procfile_lines(*, host: str, port: int) -> list[tuple[str, list[str]]]:
    python = sys.executable
    data_dir = str(settings.DATA_DIR)
    processes: list[tuple[str, list[str]]] = []
    if settings.EMBEDDED_POSTGRES:
        processes.append(
            ("postgres", [python, "-m", "assistant.embedded_process", "postgres", data_dir])
        )
    if settings.EMBEDDED_REDIS:
        processes.append(("redis", embedded.redis_command(settings.DATA_DIR)))
    if settings.EMBEDDED_LLM:
        model = settings.LOCAL_MODEL_PATH or local_server.bundled_model_path()
        processes.append(("llm", local_server.llama_server_command(model, settings.LOCAL_LLM_PORT)))
    processes += [
        ("web", web_command(host=host, port=port, workers=web_workers())),
        ("worker", [python, "-m", "celery", "-A", "assistant", "worker", "-l", "info",
                    "--concurrency", "2"]),
        ("beat", [python, "-m", "celery", "-A", "assistant", "beat", "-l", "info",
                  "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")]),
    ]  # fmt: skip
    return processes


class Command(BaseCommand):
    help = "Print a Procfile (for honcho) that starts the whole platform."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        for name, command in procfile_lines(host=host, port=port):
            self.stdout.write(f"{name}: {shlex.join(command)}")
