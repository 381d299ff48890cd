"""Token usage: what one model call (or a sum of them) read and wrote, as the provider reported it.

One record type for every floor: the models report it, metrics and traces write it, runs and
engines add it up with `+` (never field by field).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Tokens as the provider reported them. `input_tokens` never includes cached tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def context_tokens(self) -> int:
        """Everything the model read for this request, cached or not."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
