"""What a model call costs: prices per model from the agents config, and the sum for one call.

Token counts follow AG-UI's ``TokenUsage`` accounting: ``input_tokens`` is every prompt token the
call was charged for, and ``cached_input_tokens`` is a part of it (never an addition), priced at
``cached_input_per_million`` when the model has one, else like any other input token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Price", "Prices", "call_cost", "parse_prices", "usd_text"]

PRICE_FIELDS = ("input_per_million", "output_per_million", "cached_input_per_million")


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens."""

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None


Prices = Mapping[str, Price]
"""Model name -> its price; a model without one costs nothing (its tokens still count)."""


def call_cost(price: Price | None, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
    """The call's cost in US dollars (0 for a model without a price)."""
    if price is None:
        return 0.0
    cached = min(max(cached_input_tokens, 0), max(input_tokens, 0))
    cached_rate = price.cached_input_per_million if price.cached_input_per_million is not None else price.input_per_million
    total = ((input_tokens - cached) * price.input_per_million + cached * cached_rate
             + max(output_tokens, 0) * price.output_per_million)
    return total / 1_000_000


def usd_text(value: float) -> str:
    """``$1,234.50``; small amounts keep their digits (``$0.0016``, not ``$0.00``)."""
    text = f"{value:,.2f}"
    if abs(value - round(value, 2)) > 1e-12:
        text = f"{value:,.6f}".rstrip("0")
    return "$" + text


def _rate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be a number of US dollars per million tokens, 0 or more (got {value!r})")
    return float(value)


def parse_prices(table: Any, where: str = "prices") -> dict[str, Price]:
    """``[prices."gpt-4o-mini"] input_per_million = 0.15, output_per_million = 0.6`` -> prices.

    Raises ``ValueError`` naming the model and field for anything else."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table of model name -> {{ input_per_million, output_per_million }}")
    prices: dict[str, Price] = {}
    for model, entry in table.items():
        label = f'{where}."{model}"'
        if not isinstance(entry, Mapping):
            raise ValueError(f"{label} must be a table with input_per_million and output_per_million")
        unknown = sorted(set(entry) - set(PRICE_FIELDS))
        if unknown:
            raise ValueError(f"{label}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(PRICE_FIELDS)})")
        for needed in PRICE_FIELDS[:2]:
            if needed not in entry:
                raise ValueError(f"{label}: {needed} is required")
        cached = entry.get("cached_input_per_million")
        prices[str(model)] = Price(
            _rate(entry["input_per_million"], f"{label}.input_per_million"),
            _rate(entry["output_per_million"], f"{label}.output_per_million"),
            None if cached is None else _rate(cached, f"{label}.cached_input_per_million"),
        )
    return prices
