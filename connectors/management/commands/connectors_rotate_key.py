"""Re-encrypt every connection's secrets with the newest CONNECTOR_ENCRYPTION_KEYS key.

Rotation: put a new key first in CONNECTOR_ENCRYPTION_KEYS (or first line of
<data dir>/connector_keys), keep the old one after it, run this command, then drop the
old key. Connections whose secrets no key can read are listed (they need reconnecting).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from connectors.crypto import SecretsUnreadable, secrets_rotate
from connectors.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt connection credentials with the newest encryption key."

    def handle(self, *args, **options) -> None:
        rotated, unreadable = 0, []
        with transaction.atomic():
            for connection in Connection.objects.select_for_update().only(
                "pk", "label", "secrets_encrypted"
            ):
                try:
                    token = secrets_rotate(connection.secrets_encrypted)
                except SecretsUnreadable:
                    unreadable.append(connection)
                    continue
                Connection.objects.filter(pk=connection.pk).update(secrets_encrypted=token)
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} connection(s) with the newest key.")
        for connection in unreadable:
            self.stderr.write(
                f"Connection {connection.pk} ({connection.label}): no configured key reads "
                "its credentials; reconnect it."
            )
