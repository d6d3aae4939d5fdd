"""The OpenAI-compatible endpoint, at /v1/ (assistant/api/openai_views.py)."""

from django.urls import path

from assistant.api import openai_views

app_name = "openai"
urlpatterns = [
    path("chat/completions", openai_views.chat_completions, name="chat-completions"),
    path("models", openai_views.models, name="models"),
]
