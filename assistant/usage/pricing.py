"""Estimated cost from settings.MODEL_PRICES (US dollars per million input and output
tokens, per model name), and the comparison a user's own usage implies at the prices of
settings.USAGE_COMPARE_MODELS. Estimates only: nothing here is billed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    model: str  # the name it is listed under in MODEL_PRICES
    input: Decimal  # dollars per million prompt tokens
    output: Decimal  # dollars per million completion tokens

    def cost(self, *, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return (prompt_tokens * self.input + completion_tokens * self.output) / MILLION


@dataclass(frozen=True)
class Comparison:
    model: str
    cost: Decimal | None  # None: no price set for that model


def price_for(model: str) -> Price | None:
    """The price of `model`: its exact name in MODEL_PRICES, else the same name in any
    case, else its last path part ("deepseek-ai/DeepSeek-R1" -> "deepseek-r1")."""
    prices = settings.MODEL_PRICES
    if not model:
        return None
    folded = {name.lower(): name for name in prices}
    for candidate in (model, model.lower(), model.rsplit("/", 1)[-1].lower()):
        name = candidate if candidate in prices else folded.get(candidate)
        if name is not None:
            given_in, given_out = prices[name]
            return Price(model=name, input=Decimal(str(given_in)), output=Decimal(str(given_out)))
    return None


def usage_compare(*, prompt_tokens: int, completion_tokens: int) -> list[Comparison]:
    """The same tokens at each comparison model's prices."""
    rows = []
    for model in settings.USAGE_COMPARE_MODELS:
        price = price_for(model)
        cost = (
            price.cost(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
            if price
            else None
        )
        rows.append(Comparison(model=model, cost=cost))
    return rows


def dollars(amount: Decimal | None) -> str:
    """$27.60, $0.0042 (small sums keep four places), "no price set" for None."""
    if amount is None:
        return "no price set"
    if amount == 0:
        return "$0.00"
    if amount < Decimal("0.01"):
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def tokens_short(count: int) -> str:
    """1.2M, 34.5k, 999."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.1f}k"
    return str(count)
