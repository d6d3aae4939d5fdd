"""The tokens-per-day bar chart as plain numbers for an inline SVG (no script, no CDN,
no inline style: the Content-Security-Policy allows SVG presentation attributes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.usage.pricing import tokens_short
from assistant.usage.selectors import Day

PALETTE = ("#4f7cac", "#e07a5f", "#81b29a", "#f2cc8f", "#9c89b8", "#3d405b", "#c97b84", "#6c9a8b")
OTHER_COLOUR = "#b0b0b0"
WIDTH, HEIGHT, GAP = 600, 160, 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, model)
    peak: str = "0"  # the tallest day's tokens, for the axis label
    first_day: str = ""
    last_day: str = ""


def usage_chart(*, days: list[Day], models: list[str]) -> Chart:
    """Stacked bars, one per day, one segment per model (the first models in `models`
    get their own colour, the rest share one)."""
    colours = {model: PALETTE[i] for i, model in enumerate(models[: len(PALETTE)])}
    chart = Chart(
        legend=[(colour, model or "(unknown model)") for model, colour in colours.items()]
    )
    if len(models) > len(PALETTE):
        chart.legend.append((OTHER_COLOUR, "other models"))
    if not days:
        return chart
    chart.first_day, chart.last_day = f"{days[0].day:%b %d}", f"{days[-1].day:%b %d}"
    peak = max(day.total for day in days)
    chart.peak = tokens_short(peak)
    if peak == 0:
        return chart
    slot = WIDTH / len(days)
    for index, day in enumerate(days):
        top = float(HEIGHT)
        for model in sorted(day.by_model, key=lambda m: models.index(m) if m in models else 99):
            tokens = day.by_model[model]
            if tokens <= 0:
                continue
            height = HEIGHT * tokens / peak
            top -= height
            chart.bars.append(
                Bar(
                    x=round(index * slot + GAP / 2, 2),
                    y=round(top, 2),
                    width=round(max(1.0, slot - GAP), 2),
                    height=round(height, 2),
                    colour=colours.get(model, OTHER_COLOUR),
                    title=f"{day.day:%Y-%m-%d} · {model or '(unknown model)'}: {tokens:,} tokens",
                )
            )
    return chart
