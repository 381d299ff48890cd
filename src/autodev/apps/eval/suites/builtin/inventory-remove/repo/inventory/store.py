"""The stock itself: item names mapped to counts."""

from __future__ import annotations


class Inventory:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def add(self, name: str, quantity: int = 1) -> None:
        """Put `quantity` more of `name` in stock."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self._counts[name] = self._counts.get(name, 0) + quantity

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def items(self) -> list[str]:
        """The names in stock, sorted."""
        return sorted(self._counts)
