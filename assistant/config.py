"""Strict readers for environment settings.

Every reader fails at start-up with ImproperlyConfigured naming the variable and
what a valid value looks like, instead of silently falling back to a default.
Secrets may also come from `<NAME>_FILE` (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean. Use one of: true, false, 1, 0.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a whole number, e.g. {default}."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is too small; it must be at least {minimum}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number, e.g. {default}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    """An optional URL; unset means "use the embedded default"."""
    value = _raw(name)
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a valid URL; expected a {' or '.join(schemes)}:// URL."
        )
    return value


def env_secret(name: str) -> str | None:
    """A secret from NAME or from the file named by NAME_FILE."""
    file_name = _raw(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise ImproperlyConfigured(f"{name}_FILE points at {file_name}, which is not a file.")
        return path.read_text().strip() or None
    return _raw(name) or None


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """A request header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto.

    Returns Django's SECURE_PROXY_SSL_HEADER tuple ("HTTP_X_FORWARDED_PROTO", "https"), or None
    when unset. Only set it when the proxy always overwrites the header a client sends.
    """
    value = _raw(name)
    if not value:
        return None
    header, _, expected = value.partition("=")
    header, expected = header.strip(), (expected.strip() or "https")
    if not re.fullmatch(r"[A-Za-z0-9-]+", header) or header.upper().startswith("HTTP_"):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a header name. Use e.g. X-Forwarded-Proto "
            "(optionally X-Forwarded-Proto=https)."
        )
    return "HTTP_" + header.upper().replace("-", "_"), expected
