"""Credentials at rest: encrypted with MultiFernet, rotatable, never readable without a key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from connectors.base import Connected, RemoteSource
from connectors.crypto import SecretsUnreadable, secrets_decrypt, secrets_encrypt
from connectors.models import Connection
from connectors.services.connections import connection_create

SECRET = "s3cret-app-password-9f2"


def _connect(owner) -> Connection:
    connected = Connected(
        label="Home",
        display_url="https://dav.example.org/",
        config={"url": "https://dav.example.org/", "username": "olivia"},
        secrets={"password": SECRET},
        sources=[RemoteSource(remote_id="/cal/a/", name="Personal")],
    )
    return connection_create(owner=owner, kind="caldav", connected=connected)


def test_secrets_round_trip_and_are_not_stored_in_clear(owner):
    connection = _connect(owner)
    stored = Connection.objects.values_list("secrets_encrypted", flat=True).get(pk=connection.pk)
    assert SECRET not in stored
    assert secrets_decrypt(stored) == {"password": SECRET}
    assert connection.sources.get().included  # chosen at connect time


def test_rotation_reencrypts_with_the_new_key_and_the_old_key_can_go(owner, settings):
    old = list(settings.CONNECTOR_ENCRYPTION_KEYS)
    connection = _connect(owner)
    new_key = Fernet.generate_key().decode()
    settings.CONNECTOR_ENCRYPTION_KEYS = [new_key, *old]
    call_command("connectors_rotate_key")
    settings.CONNECTOR_ENCRYPTION_KEYS = [new_key]  # the old key dropped
    connection.refresh_from_db()
    assert secrets_decrypt(connection.secrets_encrypted) == {"password": SECRET}


def test_a_missing_key_gives_a_clear_error(owner, settings):
    token = secrets_encrypt({"password": SECRET})
    settings.CONNECTOR_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretsUnreadable, match="Reconnect"):
        secrets_decrypt(token)


def test_rotation_lists_connections_no_key_can_read(owner, settings, capsys):
    connection = _connect(owner)
    before = Connection.objects.get(pk=connection.pk).secrets_encrypted
    settings.CONNECTOR_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    call_command("connectors_rotate_key")
    assert "reconnect it" in capsys.readouterr().err
    assert Connection.objects.get(pk=connection.pk).secrets_encrypted == before
