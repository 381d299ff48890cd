"""Prices (a dated data file, user-extendable) -> the cost of a call, or None when unknown.

A model missing from the table is priced `None` with one warning per model: a cost that is a guess
is worse than no cost, because people make decisions on it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autodev.core.errors import UserError
from autodev.models import Usage

PER_MILLION = 1_000_000
_DATED_SUFFIX = re.compile(r"^-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$")  # claude-x-20250929, gpt-x-2025-08-07


class ModelPrice(BaseModel):
    """USD per million tokens. A missing cache_write price means writes cost the input price."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    context_window: int | None = Field(default=None, gt=0)
    long_context_threshold: int | None = Field(default=None, gt=0)
    long_context_multiplier: float = Field(default=1.0, ge=1)


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, ModelPrice]
    read_on: str

    def lookup(self, model: str) -> ModelPrice | None:
        """Exact id, or the id with a dated snapshot suffix (same model, same price)."""
        if model in self.prices:
            return self.prices[model]
        for name, price in self.prices.items():
            if model.startswith(name) and _DATED_SUFFIX.match(model[len(name) :]):
                return price
        return None

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.lookup(model)
        if price is None:
            return None
        multiplier = 1.0
        if price.long_context_threshold and usage.context_tokens > price.long_context_threshold:
            multiplier = price.long_context_multiplier
        cache_write = price.input if price.cache_write is None else price.cache_write
        cache_read = price.input if price.cache_read is None else price.cache_read
        dollars = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_write_tokens * cache_write
            + usage.cache_read_tokens * cache_read
        )
        return round(dollars * multiplier / PER_MILLION, 8)

    def context_window(self, model: str) -> int | None:
        price = self.lookup(model)
        return price.context_window if price else None


def _parse(models: Mapping[str, Any], where: str) -> dict[str, ModelPrice]:
    try:
        return {name: ModelPrice.model_validate(value) for name, value in models.items()}
    except ValidationError as exc:
        raise UserError(f"{where}: invalid price entry: {exc}") from exc


def total_cost(*costs: float | None) -> float | None:
    """The sum of costs, or None when any is unknown: a partial sum would pass for the whole."""
    if any(cost is None for cost in costs):
        return None
    return sum(float(cost or 0.0) for cost in costs)


def load_price_table(extra: Mapping[str, Any] | None = None) -> PriceTable:
    """The bundled table, with `[prices."model"]` entries from config layered on top."""
    raw = tomllib.loads((resources.files("autodev.models") / "prices.toml").read_text(encoding="utf-8"))
    prices = _parse(raw["models"], "bundled prices.toml")
    if extra:
        prices.update(_parse(extra, "config [prices]"))
    return PriceTable(prices, str(raw["read_on"]))


class Pricer:
    """Prices calls for one run and warns once for each model it cannot price."""

    def __init__(self, table: PriceTable, warn: Callable[[str], None] = lambda message: None) -> None:
        self.table = table
        self._warn = warn
        self._warned: set[str] = set()

    def cost(self, model: str, usage: Usage) -> float | None:
        cost = self.table.cost(model, usage)
        if cost is None and model not in self._warned:
            self._warned.add(model)
            self._warn(
                f"no price known for model {model!r}: its cost is reported as null, not estimated "
                '(add [prices."' + model + '"] to .autodev/config.toml)'
            )
        return cost
