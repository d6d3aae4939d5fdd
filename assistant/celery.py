"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")

app = Celery("assistant")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every task lives in the background-work home (task names stay "assistant.tasks.*").
app.autodiscover_tasks(["assistant.background"])
