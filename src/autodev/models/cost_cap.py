"""The hard cost cap of a run (`max_cost_usd` / `--max-cost`), checked before every model call.

A call is let through only when what the run has spent, plus what the calls in flight may still
cost, plus this call's worst case stays within the cap. The worst case is priced from the request
as it will be sent: its input tokens (counted offline, with a margin for the provider's own
tokenizer counting differently) at the dearest input rate the model has (a cache write costs more
than plain input), and a reply of the full `max_tokens` at the output rate, both at the long-context
multiplier when the input may pass its threshold. So no call that could take the run over the cap is
ever made: the run stops before it, not after.

Calls run in parallel (agents of one phase), so each one reserves its worst case while it is in
flight and settles it with its real cost when the reply arrives; two calls can never both spend the
last dollar.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from autodev.models.pricing import PER_MILLION, PriceTable

INPUT_MARGIN = 1.25  # the offline count (4 characters a token) against a provider's tokenizer
INPUT_SLACK = 256  # tokens a provider adds around a request (roles, tool-use framing)


class CostCapReached(Exception):
    """The next call could take the run over its cost cap, so it was not made."""

    def __init__(self, limit: float, spent: float, worst: float, model: str) -> None:
        self.limit, self.spent, self.worst, self.model = limit, spent, worst, model
        super().__init__(
            f"cost cap of ${limit:.4f} reached: ${spent:.4f} spent (or in flight), and the next call to {model} "
            f"could cost up to ${worst:.4f}"
        )


class UnpricedModel(Exception):
    """A model without a price: its worst case is unknown, so a capped run cannot call it."""


def worst_case_cost(table: PriceTable, model: str, input_tokens: int, max_tokens: int) -> float:
    """The most one call to `model` with about `input_tokens` of input and `max_tokens` of reply can cost."""
    price = table.lookup(model)
    if price is None:
        raise UnpricedModel(model)
    tokens = int(input_tokens * INPUT_MARGIN) + INPUT_SLACK
    input_rate = max(price.input, price.cache_write or 0.0, price.cache_read or 0.0)
    multiplier = 1.0
    if price.long_context_threshold and tokens > price.long_context_threshold:
        multiplier = price.long_context_multiplier
    return (tokens * input_rate + max_tokens * price.output) * multiplier / PER_MILLION


@dataclass
class Reservation:
    """One call's worst case, held while it is in flight; `settle` replaces it with what it cost."""

    worst: float
    cost: float = 0.0

    def settle(self, cost: float | None) -> None:
        """The call's real cost (None: its reply named a model without a price, so the worst case counts)."""
        self.cost = self.worst if cost is None else cost


class CostCap:
    """What a run may still spend; shared by every agent of the run."""

    def __init__(self, limit: float, table: PriceTable, spent: float = 0.0) -> None:
        self.limit = limit
        self.table = table
        self.spent = spent
        self.in_flight = 0.0
        self.reached: CostCapReached | None = None  # the first call the cap refused
        self._lock = threading.Lock()

    @contextmanager
    def reserve(self, model: str, input_tokens: int, max_tokens: int) -> Iterator[Reservation]:
        """Hold the call's worst case while it runs; `CostCapReached` (the call is not made) when it does not fit."""
        worst = worst_case_cost(self.table, model, input_tokens, max_tokens)
        with self._lock:
            committed = self.spent + self.in_flight
            if committed + worst > self.limit:
                refused = CostCapReached(self.limit, committed, worst, model)
                self.reached = self.reached or refused
                raise refused
            self.in_flight += worst
        held = Reservation(worst)
        try:
            yield held
        finally:
            with self._lock:
                self.in_flight -= worst
                self.spent += held.cost
