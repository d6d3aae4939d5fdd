"""The Django project package and the chat product (the composition root)."""

from assistant.celery import app as celery_app

__all__ = ("celery_app",)
