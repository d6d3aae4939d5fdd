"""The embedded PostgreSQL as a Django database backend that starts the server lazily.

`ENGINE: "assistant.embedded_pg"` (settings.py, when DATABASE_URL is unset): nothing
starts at import, so `manage.py help` or `procfile` never touch PostgreSQL; the first
connection starts it (lifecycle.py), and the process stops it at exit when it started
it and no other process still holds it (`make run`'s keeper always does).
"""
