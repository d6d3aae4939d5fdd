"""Connector settings (calendars, drives), read from the environment; star-imported at the end of
assistant/settings.py. Listed in README.md and deploy/.env.example."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from assistant.config import env_bool, env_float, env_int, env_secret, env_str

_DATA_DIR = Path(env_str("ASSISTANT_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var")))
_DEBUG = env_bool("DEBUG", False)
_KEY_FILE = _DATA_DIR.resolve() / "connector_keys"


def _encryption_keys() -> list[str]:
    """Fernet keys, newest first: the variable (or its _FILE), else the data dir's file
    that `make run` generates; development generates one on first use."""
    raw = env_secret("CONNECTOR_ENCRYPTION_KEYS") or ""
    if not raw and _KEY_FILE.is_file():
        raw = _KEY_FILE.read_text()
    if not raw and _DEBUG:
        _KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        _KEY_FILE.write_text(Fernet.generate_key().decode() + "\n")
        _KEY_FILE.chmod(0o600)
        raw = _KEY_FILE.read_text()
    keys = [key.strip() for key in raw.replace(",", "\n").splitlines() if key.strip()]
    if not keys:
        raise ImproperlyConfigured(
            f"CONNECTOR_ENCRYPTION_KEYS is not set and {_KEY_FILE} does not exist. Run "
            "`make run` once (it generates that file) or set CONNECTOR_ENCRYPTION_KEYS to a "
            'Fernet key: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError as error:
            raise ImproperlyConfigured(
                "CONNECTOR_ENCRYPTION_KEYS holds a value that is not a Fernet key "
                "(32 url-safe base64-encoded bytes). Generate one with "
                "Fernet.generate_key()."
            ) from error
    return keys


CONNECTOR_ENCRYPTION_KEYS = _encryption_keys()
# How often beat syncs each active connection, and how long one sync may hold its claim.
CONNECTOR_SYNC_INTERVAL_MINUTES = env_int("CONNECTOR_SYNC_INTERVAL_MINUTES", 15, minimum=1)
CONNECTOR_SYNC_CLAIM_TTL_S = env_int("CONNECTOR_SYNC_CLAIM_TTL_S", 900, minimum=30)
CONNECTOR_SYNC_MAX_RETRIES = env_int("CONNECTOR_SYNC_MAX_RETRIES", 5, minimum=0)
CONNECTOR_SYNC_RETRY_BACKOFF_S = env_int("CONNECTOR_SYNC_RETRY_BACKOFF_S", 30, minimum=1)
CONNECTOR_HTTP_TIMEOUT_S = env_int("CONNECTOR_HTTP_TIMEOUT_S", 30, minimum=1)
# The largest calendar feed or object accepted, in bytes.
CONNECTOR_MAX_FEED_BYTES = env_int("CONNECTOR_MAX_FEED_BYTES", 20 * 1024 * 1024, minimum=1024)
# Drives: the largest file read, the most text kept from one (the rest is cut, with a note
# on the file), how long reading one may take, and how much a docx/odt may unpack to.
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
DOCUMENT_MAX_TEXT_CHARS = env_int("DOCUMENT_MAX_TEXT_CHARS", 2_000_000, minimum=1000)
DOCUMENT_EXTRACT_TIMEOUT_S = env_float("DOCUMENT_EXTRACT_TIMEOUT_S", 30.0, minimum=1.0)
DOCUMENT_MAX_UNZIPPED_BYTES = env_int(
    "DOCUMENT_MAX_UNZIPPED_BYTES", 256 * 1024 * 1024, minimum=1024 * 1024
)
# Uploads: where the files users add from the browser are kept (one folder per user).
UPLOADS_ROOT = Path(env_str("UPLOADS_ROOT", str(_DATA_DIR / "uploads"))).resolve()
# The largest upload request (several files at once), refused before any of it is read.
UPLOADS_MAX_REQUEST_BYTES = env_int(
    "UPLOADS_MAX_REQUEST_BYTES", 4 * DOCUMENT_MAX_BYTES + 1024 * 1024, minimum=1024
)
# The rolling window recurring events are expanded over, around today.
CALENDAR_WINDOW_PAST_DAYS = env_int("CALENDAR_WINDOW_PAST_DAYS", 365, minimum=1)
CALENDAR_WINDOW_FUTURE_DAYS = env_int("CALENDAR_WINDOW_FUTURE_DAYS", 365, minimum=1)
# The most events a time question puts into the prompt, and their token budget.
CALENDAR_PROMPT_MAX_EVENTS = env_int("CALENDAR_PROMPT_MAX_EVENTS", 30, minimum=0)
CALENDAR_TOKEN_BUDGET = env_int("CALENDAR_TOKEN_BUDGET", 1200, minimum=0)
# The most passages of the user's files a chat turn retrieves, and their token budget.
DOCUMENT_RETRIEVE_K = env_int("DOCUMENT_RETRIEVE_K", 6, minimum=0)
DOCUMENT_TOKEN_BUDGET = env_int("DOCUMENT_TOKEN_BUDGET", 1200, minimum=0)
# A retrieved passage enters the prompt only if it shares words with the question (a
# BM25 hit) or is this close in meaning (cosine, all-MiniLM-L6-v2): unrelated turns such
# as "hello" then inject nothing. 0.22 from measured pairs (assistant/services/document_context.py).
DOCUMENT_MIN_SIMILARITY = env_float("DOCUMENT_MIN_SIMILARITY", 0.22, minimum=-1.0)
# Google Calendar (OAuth web flow); without both, the kind shows as "not configured".
GOOGLE_OAUTH_CLIENT_ID = env_str("GOOGLE_OAUTH_CLIENT_ID", "")
GOOGLE_OAUTH_CLIENT_SECRET = env_secret("GOOGLE_OAUTH_CLIENT_SECRET") or ""
# Where Google's endpoints live: only tests point these at a local server.
GOOGLE_OAUTH_AUTH_URI = env_str(
    "GOOGLE_OAUTH_AUTH_URI", "https://accounts.google.com/o/oauth2/auth"
)
GOOGLE_OAUTH_TOKEN_URI = env_str("GOOGLE_OAUTH_TOKEN_URI", "https://oauth2.googleapis.com/token")
GOOGLE_OAUTH_REVOKE_URI = env_str("GOOGLE_OAUTH_REVOKE_URI", "https://oauth2.googleapis.com/revoke")
GOOGLE_CALENDAR_API_ROOT = env_str("GOOGLE_CALENDAR_API_ROOT", "https://www.googleapis.com/")
GOOGLE_DRIVE_API_ROOT = env_str("GOOGLE_DRIVE_API_ROOT", "https://www.googleapis.com/")
# Self-hosters keep Nextcloud or Radicale on their LAN, so private addresses are allowed
# by default; a deployment whose users must not reach its internal network (a request
# from the server to 10.x or 127.0.0.1) sets this to false.
CONNECTOR_ALLOW_PRIVATE_ADDRESSES = env_bool("CONNECTOR_ALLOW_PRIVATE_ADDRESSES", True)
