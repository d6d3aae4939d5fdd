"""Usage numbers as the usage pages show them: `{{ cost|dollars }}` -> "$27.60" (or
"no price set"), `{{ tokens|tokens_short }}` -> "1.2M"."""

from django import template

from assistant.usage import pricing

register = template.Library()
register.filter("dollars", pricing.dollars)
register.filter("tokens_short", pricing.tokens_short)


@register.filter
def thousands(count: int) -> str:
    """1234567 -> "1,234,567"."""
    return f"{count or 0:,}"


@register.filter
def get_tokens(by_model: dict, model: str) -> int:
    """One model's tokens on a day (0 when it was not used that day)."""
    return by_model.get(model, 0)
