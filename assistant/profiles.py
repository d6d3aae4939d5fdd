"""Model profiles ("thinking", "fast") mapped to inference backends by settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from inference import BackendConfig


@dataclass(frozen=True)
class Profile:
    key: str
    label: str
    description: str
    model: str


def profile_choices(allowed: Iterable[str] | None = None) -> list[Profile]:
    """The configured profiles, in settings order; only those in `allowed` when given."""
    keep = None if allowed is None else set(allowed)
    return [
        Profile(key, p["label"], p["description"], p["model"])
        for key, p in settings.MODEL_PROFILES.items()
        if keep is None or key in keep
    ]


def normalise_profile(key: str | None) -> str:
    return key if key in settings.MODEL_PROFILES else settings.DEFAULT_MODEL_PROFILE


def allowed_profiles(team) -> list[str]:
    """The profile keys a chat in `team` may use, in settings order.

    No team, an empty list, or a list naming only profiles no longer configured: all of
    them (a team cannot be left with no model at all)."""
    configured = list(settings.MODEL_PROFILES)
    chosen = set(getattr(team, "allowed_profiles", None) or ())
    allowed = [key for key in configured if key in chosen]
    return allowed or configured


def default_profile(team) -> str:
    """The default profile if the team allows it, else the first one it allows."""
    allowed = allowed_profiles(team)
    default = settings.DEFAULT_MODEL_PROFILE
    return default if default in allowed else allowed[0]


def profile_for_team(key: str | None, team) -> str:
    """`key` checked against the team's allowed profiles (none given: the team's
    default). A profile the team does not allow -> ValidationError, in words."""
    if not key or key not in settings.MODEL_PROFILES:
        return default_profile(team)
    allowed = allowed_profiles(team)
    if key not in allowed:
        labels = ", ".join(p.label for p in profile_choices(allowed))
        raise ValidationError(
            f"This team's chats may use {labels} only; "
            f"{settings.MODEL_PROFILES[key]['label']} is not allowed here.",
            code="profile_not_allowed",
        )
    return key


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
