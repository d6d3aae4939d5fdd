"""Settings for the assistant platform, read from the environment.

Unset DATABASE_URL / REDIS_URL / INFERENCE_BASE_URL mean the embedded default
(see assistant/embedded.py). Every variable is listed in README.md and
deploy/.env.example.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from assistant import csp, embedded
from assistant.config import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_secret,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("ASSISTANT_DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY and (DATA_DIR / "secret_key").is_file():
    # The key `make run` generated for this data dir: commands work without extra variables.
    SECRET_KEY = (DATA_DIR / "secret_key").read_text().strip() or None
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {DATA_DIR / 'secret_key'} does not exist. Run `make run` "
            "once (it generates that file), or set SECRET_KEY (or SECRET_KEY_FILE) to a long "
            "random value, "
            'e.g. python -c "import secrets; print(secrets.token_urlsafe(50))", '
            "or set DEBUG=true for local development."
        )
    # Development only: a per-data-dir key so sessions survive restarts.
    key_file = DATA_DIR / "dev-secret-key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if not DEBUG else ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Index operator classes on expressions (memory's half-precision vector index).
    "django.contrib.postgres",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    # The REST API's docs page serves Swagger UI from ninja's static files (no CDN).
    "ninja",
    "memory",
    "connectors",
    "assistant",
    # After "assistant", so that its templates override allauth's (assistant/settings_auth.py).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    # First: the container probe must pass whatever ALLOWED_HOSTS and SECURE_SSL_REDIRECT say.
    "assistant.middleware.HealthzMiddleware",
    "assistant.middleware_inline.SecurityMiddleware",  # Django's, minus thread hops (see there)
    "servestatic.middleware.ServeStaticMiddleware",  # async-capable: no thread hop per request
    "assistant.middleware_inline.CSPMiddleware",
    "assistant.middleware_inline.SessionMiddleware",
    "assistant.middleware_inline.CommonMiddleware",
    "assistant.middleware_inline.CsrfViewMiddleware",
    "assistant.middleware_inline.AuthenticationMiddleware",
    "assistant.middleware_inline.MessageMiddleware",
    "assistant.middleware_inline.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lock-out into the login page's message
]
# Django's checks look for its own classes by name; assistant/checks.py looks for these.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "assistant.urls"
ASGI_APPLICATION = "assistant.asgi.application"
WSGI_APPLICATION = "assistant.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assistant.teams.context.propose_team",
            ],
        },
    },
]

# --- Database: DATABASE_URL or the embedded PostgreSQL + pgvector -----------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "pgsql"))
EMBEDDED_POSTGRES = DATABASE_URL is None
if EMBEDDED_POSTGRES:
    # Started on the first connection, not here (assistant/embedded_pg): a command that
    # never queries never starts it, and a process stops at exit the server it started.
    DATABASES = {
        "default": {
            "ENGINE": "assistant.embedded_pg",
            "NAME": embedded.EMBEDDED_DB_NAME,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "",  # the socket directory, filled in when the server is up
            "PORT": "",
            "OPTIONS": {},
        }
    }
else:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
# A psycopg connection pool shared by all threads of a process: the ASGI server runs
# each request's ORM calls on a thread of its own, and without a pool every streaming
# answer would open (and hold) its own PostgreSQL connection.
DB_POOL = env_bool("DB_POOL", True)
if DB_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_float("DB_POOL_TIMEOUT_S", 10.0, minimum=0.1),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis / Celery ------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "redis+socket", "unix"))
EMBEDDED_REDIS = REDIS_URL is None
CELERY_BROKER_URL = REDIS_URL or embedded.redis_url(DATA_DIR)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900, minimum=10)
# The soft limit raises in the task (recorded, backed off); the hard one kills the worker.
CELERY_TASK_SOFT_TIME_LIMIT = env_int(
    "CELERY_TASK_SOFT_TIME_LIMIT", max(5, CELERY_TASK_TIME_LIMIT - 60), minimum=1
)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_SOFT_TIME_LIMIT={CELERY_TASK_SOFT_TIME_LIMIT} must be below "
        f"CELERY_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT}, e.g. 60 s below it."
    )
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Inference ------------------------------------------------------------------------
LOCAL_LLM_PORT = env_int("LOCAL_LLM_PORT", 8001, minimum=1)
LOCAL_MODEL_PATH = env_str("LOCAL_MODEL_PATH", "")
INFERENCE_BASE_URL = env_url("INFERENCE_BASE_URL", schemes=("http", "https"))
EMBEDDED_LLM = INFERENCE_BASE_URL is None
_default_base_url = INFERENCE_BASE_URL or f"http://127.0.0.1:{LOCAL_LLM_PORT}/v1"
_default_model = env_str(
    "INFERENCE_MODEL",
    Path(LOCAL_MODEL_PATH).stem if LOCAL_MODEL_PATH else "SmolLM2-135M-Instruct.Q4_1",
)
INFERENCE_API_KEY = env_secret("INFERENCE_API_KEY") or "not-needed"
INFERENCE_TIMEOUT_S = env_float("INFERENCE_TIMEOUT_S", 120.0, minimum=1.0)
INFERENCE_CONNECT_TIMEOUT_S = env_float("INFERENCE_CONNECT_TIMEOUT_S", 5.0, minimum=0.1)
INFERENCE_MAX_TOKENS = env_int("INFERENCE_MAX_TOKENS", 2048, minimum=16)


def _profile(prefix: str, *, label: str, description: str, thinking: bool) -> dict:
    model = env_str(f"{prefix}_MODEL", _default_model)
    return {
        "label": label,
        "description": description,
        "base_url": env_url(f"{prefix}_BASE_URL", schemes=("http", "https")) or _default_base_url,
        "model": model,
        "api_key": env_secret(f"{prefix}_API_KEY") or INFERENCE_API_KEY,
        # R1's chat template opens <think> in the prompt, so its output starts inside it.
        "reasoning_starts_open": env_bool(
            f"{prefix}_IMPLICIT_THINK", thinking and "r1" in model.lower()
        ),
    }


MODEL_PROFILES = {
    "thinking": _profile(
        "THINKING",
        label="Thinking",
        description="Reasons step by step before answering (R1). Best for hard questions.",
        thinking=True,
    ),
    "fast": _profile(
        "FAST",
        label="Fast",
        description="Answers straight away (V3). Best for everyday questions.",
        thinking=False,
    ),
}


def _profile_name(variable: str, default: str) -> str:
    name = env_str(variable, default)
    if name not in MODEL_PROFILES:
        raise ImproperlyConfigured(
            f"{variable}={name!r} is not a profile; use one of {', '.join(MODEL_PROFILES)}."
        )
    return name


DEFAULT_MODEL_PROFILE = _profile_name("DEFAULT_MODEL_PROFILE", "fast")

# --- Chat -----------------------------------------------------------------------------
MAX_MESSAGE_CHARS = env_int("MAX_MESSAGE_CHARS", 32000, minimum=1)
# From this many answers streaming per process, read and relay every CHAT_FRAME_EVERY_S.
CHAT_PACE_FROM_STREAMS = env_int("CHAT_PACE_FROM_STREAMS", 16, minimum=0)
CHAT_FRAME_EVERY_S = env_float("CHAT_FRAME_EVERY_S", 0.25, minimum=0.0)
CHAT_HISTORY_MAX_MESSAGES = env_int("CHAT_HISTORY_MAX_MESSAGES", 40, minimum=2)
CHAT_HISTORY_TOKEN_BUDGET = env_int("CHAT_HISTORY_TOKEN_BUDGET", 6000, minimum=100)
# Answers one user may have pending or streaming at once (across conversations).
CHAT_MAX_CONCURRENT_STREAMS = env_int("CHAT_MAX_CONCURRENT_STREAMS", 4, minimum=1)
# A ": ping" comment on an idle answer stream this often (proxies cut idle streams at 60 s).
CHAT_SSE_PING_S = env_float("CHAT_SSE_PING_S", 15.0, minimum=0.1)
# One UPDATE this often saves a streaming answer's text and heartbeat and sees a Stop; with a
# heartbeat older than CHAT_STREAM_STALE_S beat (or Stop, Regenerate) closes it as failed.
CHAT_FLUSH_EVERY_S = env_float("CHAT_FLUSH_EVERY_S", 2.0, minimum=0.05)
CHAT_STREAM_STALE_S = env_int("CHAT_STREAM_STALE_S", 120, minimum=10)

# --- Accounts, static, i18n ------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
# Brute-force protection (django-axes) for /accounts/login/ and /admin/login/: after
# LOGIN_FAILURE_LIMIT failed attempts for one username from one address, sign-in is refused
# for LOGIN_COOLOFF_MINUTES. Axes checks every authenticate() call, which must pass `request`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "assistant.views.accounts.login_locked_out"
AXES_VERBOSE = False

# --- HTTPS and security headers ------------------------------------------------------------
# Production serves HTTPS through a reverse proxy (deploy/README.md, "Security notes").
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# Sent only on HTTPS responses; browsers then refuse plain HTTP for this long.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = csp.policy()

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedStaticFilesStorage"
    },
}
SERVESTATIC_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# Django's own caps, stated: form data per request; uploads above it go to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Background pipeline: session summaries and memory extraction ------------------------
# A conversation is summarised once it has been idle this long, or once this many messages
# arrived since its last summary; a beat task looks for such conversations every sweep.
SUMMARY_IDLE_MINUTES = env_int("SUMMARY_IDLE_MINUTES", 30, minimum=0)
SUMMARY_EVERY_MESSAGES = env_int("SUMMARY_EVERY_MESSAGES", 20, minimum=1)
SUMMARY_SWEEP_INTERVAL_S = env_int("SUMMARY_SWEEP_INTERVAL_S", 60, minimum=5)
SUMMARY_SWEEP_BATCH = env_int("SUMMARY_SWEEP_BATCH", 50, minimum=1)
# The most message text one run sends to the model; the rest waits for the next run.
SUMMARY_MAX_INPUT_TOKENS = env_int("SUMMARY_MAX_INPUT_TOKENS", 6000, minimum=200)
SUMMARY_MAX_OUTPUT_TOKENS = env_int("SUMMARY_MAX_OUTPUT_TOKENS", 512, minimum=32)
EXTRACTION_MAX_OUTPUT_TOKENS = env_int("EXTRACTION_MAX_OUTPUT_TOKENS", 1024, minimum=64)
# Summaries of left-out turns put into a long conversation's prompt.
SUMMARY_PROMPT_TOKEN_BUDGET = env_int("SUMMARY_PROMPT_TOKEN_BUDGET", 800, minimum=0)
# A worker's claim on a conversation; at least the hard time limit + 60 s (pipeline.py).
SUMMARY_CLAIM_TTL_S = env_int("SUMMARY_CLAIM_TTL_S", 900, minimum=10)
# After a permanent failure the sweep leaves the conversation alone this long.
SUMMARY_FAILURE_BACKOFF_MINUTES = env_int("SUMMARY_FAILURE_BACKOFF_MINUTES", 30, minimum=0)
PIPELINE_MAX_RETRIES = env_int("PIPELINE_MAX_RETRIES", 5, minimum=0)
PIPELINE_RETRY_BACKOFF_S = env_int("PIPELINE_RETRY_BACKOFF_S", 10, minimum=1)
# The most times one run is started, retries and redeliveries (lost worker) together;
# beyond it the run fails on record instead of being redelivered forever.
PIPELINE_MAX_ATTEMPTS = env_int("PIPELINE_MAX_ATTEMPTS", PIPELINE_MAX_RETRIES + 2, minimum=1)
if PIPELINE_MAX_ATTEMPTS <= PIPELINE_MAX_RETRIES:
    raise ImproperlyConfigured(
        f"PIPELINE_MAX_ATTEMPTS={PIPELINE_MAX_ATTEMPTS} must exceed "
        f"PIPELINE_MAX_RETRIES={PIPELINE_MAX_RETRIES} (a first try plus its retries)."
    )
# Reconciling an extracted memory with the nearest existing one (cosine similarity):
# at or above DUPLICATE it is skipped; from RELATED up the model decides (same / updates /
# different); below it is added. Calibrated on all-MiniLM-L6-v2: rewordings score ~0.99,
# "prefers tea" vs "prefers coffee" ~0.74, unrelated facts ~0.2.
MEMORY_DUPLICATE_SIMILARITY = env_float("MEMORY_DUPLICATE_SIMILARITY", 0.92, minimum=0.0)
MEMORY_RELATED_SIMILARITY = env_float("MEMORY_RELATED_SIMILARITY", 0.6, minimum=0.0)
if not MEMORY_RELATED_SIMILARITY <= MEMORY_DUPLICATE_SIMILARITY <= 1.0:
    raise ImproperlyConfigured(
        "Need MEMORY_RELATED_SIMILARITY <= MEMORY_DUPLICATE_SIMILARITY <= 1, e.g. 0.6 and 0.92."
    )
BACKGROUND_MODEL_PROFILE = _profile_name("BACKGROUND_MODEL_PROFILE", "fast")
# Redis redelivers a task whose worker died (acks_late) after this many seconds; keep it
# above the longest retry countdown.
CELERY_VISIBILITY_TIMEOUT_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_BEAT_SCHEDULE = {
    "summarise-idle-conversations": {
        "task": "assistant.tasks.conversations_sweep",
        "schedule": float(SUMMARY_SWEEP_INTERVAL_S),
        # A sweep that waited longer than an interval is stale: the next one replaces it.
        "options": {"expires": float(SUMMARY_SWEEP_INTERVAL_S)},
    },
    "close-stale-answers": {
        "task": "assistant.tasks.answers_close_stale",
        "schedule": float(min(60, CHAT_STREAM_STALE_S)),
        "options": {"expires": float(min(60, CHAT_STREAM_STALE_S))},
    },
    "sync-connections": {  # each connection is due every CONNECTOR_SYNC_INTERVAL_MINUTES
        "task": "assistant.tasks.connections_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "expire-team-chats": {  # teams' chat retention (assistant/background/retention.py)
        "task": "assistant.tasks.team_chats_expire",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}
# Sign-in, connectors, memory (embedding, retrieval), the API and teams: modules of their own.
from assistant.settings_api import *  # noqa: E402, F403
from assistant.settings_auth import *  # noqa: E402, F403
from assistant.settings_connectors import *  # noqa: E402, F403
from assistant.settings_memory import *  # noqa: E402, F403
from assistant.settings_teams import *  # noqa: E402, F403
