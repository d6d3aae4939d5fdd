"""Model profiles ("thinking", "fast") mapped to inference backends by settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from inference import BackendConfig


@dataclass(frozen=True)
class Profile:
    key: str
    label: str
    description: str
    model: str


def profile_choices() -> list[Profile]:
    return [
        Profile(key, p["label"], p["description"], p["model"])
        for key, p in settings.MODEL_PROFILES.items()
    ]


def normalise_profile(key: str | None) -> str:
    return key if key in settings.MODEL_PROFILES else settings.DEFAULT_MODEL_PROFILE


def backend_for_profile(key: str) -> BackendConfig:
    profile = settings.MODEL_PROFILES[normalise_profile(key)]
    return BackendConfig(
        base_url=profile["base_url"],
        model=profile["model"],
        api_key=profile["api_key"],
        timeout_s=settings.INFERENCE_TIMEOUT_S,
        connect_timeout_s=settings.INFERENCE_CONNECT_TIMEOUT_S,
        max_tokens=settings.INFERENCE_MAX_TOKENS,
        reasoning_starts_open=profile["reasoning_starts_open"],
        label=profile["label"],
    )
