"""Connection secrets at rest: one MultiFernet token per connection.

CONNECTOR_ENCRYPTION_KEYS is a list of Fernet keys, newest first: the first encrypts,
all of them decrypt, so a key can be rotated by putting a new one in front and running
`manage.py connectors_rotate_key` (re-encrypts every connection with the first key),
then dropping the old one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretsUnreadable(Exception):
    """The stored secrets cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CONNECTOR_ENCRYPTION_KEYS))


def secrets_encrypt(values: dict[str, Any]) -> str:
    return _current().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def secrets_decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken as error:
        raise SecretsUnreadable(
            "The connection's credentials cannot be decrypted with the configured "
            "CONNECTOR_ENCRYPTION_KEYS (was a key removed?). Reconnect it."
        ) from error


def secrets_rotate(token: str) -> str:
    """The same secrets, encrypted with the newest key."""
    if not token:
        return token
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SecretsUnreadable("No configured key decrypts these credentials.") from error


def key_generate() -> str:
    return Fernet.generate_key().decode()
