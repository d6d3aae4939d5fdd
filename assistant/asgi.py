"""ASGI entry point (uvicorn assistant.asgi:application): needed for streaming answers."""

import logging
import os
import threading

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")

application = get_asgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)
from django.urls import reverse  # noqa: E402

from assistant.body_limit import RequestBodyLimit  # noqa: E402

application = RequestBodyLimit(
    application,
    limits=lambda: {
        reverse("memory:import"): settings.MEMORY_IMPORT_MAX_BYTES,
        reverse("connectors:uploads-add"): settings.UPLOADS_MAX_REQUEST_BYTES,
    },
)


def _warm_up_embedder() -> None:
    # The embedding model takes seconds to load; load it now, in the background, so the
    # first chat turn that searches memory does not pay for it.
    try:
        from memory.embedding import embed_query

        embed_query("warm up")
    except Exception:  # the turn will load it (and report any error) itself
        logging.getLogger(__name__).warning("Embedding model warm-up failed", exc_info=True)


threading.Thread(target=_warm_up_embedder, name="embedder-warm-up", daemon=True).start()
