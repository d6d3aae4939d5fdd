"""The API (tokens, the OpenAI-compatible endpoint, MCP), usage prices and limits, read
from the environment; star-imported at the end of assistant/settings.py. Listed in
README.md."""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured

from assistant.config import env_int, env_str

# Largest request body the API accepts (a chat completion with a long history).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1_000_000, minimum=1024)
# Longest lifetime a new token may have, in days (0: tokens may never expire).
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 0, minimum=0)

# Limits for everyone (0: none). A team's own, or a user's set by the site admin, win.
# Counted in Redis (REDIS_URL, or the embedded one), shared by every web process.
LIMIT_USER_REQUESTS_PER_MINUTE = env_int("LIMIT_USER_REQUESTS_PER_MINUTE", 0, minimum=0)
LIMIT_USER_TOKENS_PER_DAY = env_int("LIMIT_USER_TOKENS_PER_DAY", 0, minimum=0)
LIMIT_TEAM_REQUESTS_PER_MINUTE = env_int("LIMIT_TEAM_REQUESTS_PER_MINUTE", 0, minimum=0)
LIMIT_TEAM_TOKENS_PER_DAY = env_int("LIMIT_TEAM_TOKENS_PER_DAY", 0, minimum=0)

# Prices in US dollars per million input and output tokens, per model name, for the
# usage page's estimates; the comparison rows show what the same usage would cost there.
_DEFAULT_PRICES = {
    "deepseek-r1": [0.55, 2.19],
    "deepseek-v3": [0.27, 1.10],
    "o1": [15.0, 60.0],
}


def _prices(raw: str) -> dict[str, tuple[float, float]]:
    try:
        parsed = json.loads(raw) if raw else _DEFAULT_PRICES
        prices = {str(k): (float(v[0]), float(v[1])) for k, v in parsed.items()}
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ImproperlyConfigured(
            'MODEL_PRICES must be JSON like {"deepseek-r1": [0.55, 2.19]} '
            f"(dollars per million input and output tokens): {exc}"
        ) from None
    if any(price < 0 for pair in prices.values() for price in pair):
        raise ImproperlyConfigured("MODEL_PRICES: prices cannot be negative.")
    return prices


MODEL_PRICES = _prices(env_str("MODEL_PRICES", ""))
# The models the usage page compares the user's own usage against.
USAGE_COMPARE_MODELS = [
    name.strip()
    for name in env_str("USAGE_COMPARE_MODELS", "deepseek-r1,o1").split(",")
    if name.strip()
]
