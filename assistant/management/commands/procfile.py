"""Print the Procfile for this configuration: embedded services only where their URL is unset."""

import shlex
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from assistant import embedded
from inference import local_server


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
        ("web", [python, "-m", "uvicorn", "assistant.asgi:application", "--host", host,
                 "--port", str(port), "--timeout-graceful-shutdown", "5"]),
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
