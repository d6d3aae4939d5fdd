"""PostgreSQL backend whose server is the embedded one, started on first connection."""

from __future__ import annotations

from django.conf import settings
from django.db.backends.postgresql import base

from assistant.embedded_pg import lifecycle


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        server = lifecycle.postgres_ensure(settings.DATA_DIR)
        # Filled in place, so code reading settings_dict (dbshell, test helpers) sees it.
        self.settings_dict["HOST"] = str(server.socket_dir)
        self.settings_dict["PORT"] = str(server.port)
        return super().get_connection_params()
