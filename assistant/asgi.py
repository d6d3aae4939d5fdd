"""ASGI entry point (uvicorn assistant.asgi:application): needed for streaming answers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")

application = get_asgi_application()
