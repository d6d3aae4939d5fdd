"""ASGI entry point (uvicorn assistant.asgi:application): needed for streaming answers.

/mcp (the MCP server, assistant/api/mcp_server.py) and the ASGI lifespan go to the MCP
endpoint; every other request goes to Django."""

import logging
import os
import threading

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)
from django.urls import reverse  # noqa: E402

from assistant.api.mcp_server import is_mcp_path, mcp_app  # noqa: E402
from assistant.body_limit import RequestBodyLimit  # noqa: E402

django_application = RequestBodyLimit(
    django_application,
    limits=lambda: {
        reverse("memory:import"): settings.MEMORY_IMPORT_MAX_BYTES,
        reverse("connectors:uploads-add"): settings.UPLOADS_MAX_REQUEST_BYTES,
        reverse("rest:memory-import"): settings.MEMORY_IMPORT_MAX_BYTES,
        reverse("openai:chat-completions"): settings.API_MAX_BODY_BYTES,
    },
    json_prefixes=("/api/", "/v1/"),
)


async def application(scope, receive, send):
    # Django takes no lifespan; the MCP endpoint's starts its session manager.
    if scope["type"] == "lifespan" or (scope["type"] == "http" and is_mcp_path(scope)):
        return await mcp_app(scope, receive, send)
    return await django_application(scope, receive, send)


def _warm_up_embedder() -> None:
    # The embedding model takes seconds to load; load it now, in the background, so the
    # first chat turn that searches memory does not pay for it.
    try:
        from memory.embedding import embed_query

        embed_query("warm up")
    except Exception:  # the turn will load it (and report any error) itself
        logging.getLogger(__name__).warning("Embedding model warm-up failed", exc_info=True)


threading.Thread(target=_warm_up_embedder, name="embedder-warm-up", daemon=True).start()
