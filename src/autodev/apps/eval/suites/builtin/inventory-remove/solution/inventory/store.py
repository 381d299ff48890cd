"""The stock itself: item names mapped to counts."""

from __future__ import annotations

from inventory.errors import InsufficientStock


class Inventory:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def add(self, name: str, quantity: int = 1) -> None:
        """Put `quantity` more of `name` in stock."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self._counts[name] = self._counts.get(name, 0) + quantity

    def remove(self, name: str, quantity: int = 1) -> None:
        """Take `quantity` of `name` out of stock; an item whose count reaches zero is forgotten."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        have = self._counts.get(name, 0)
        if quantity > have:
            raise InsufficientStock(f"cannot remove {quantity} {name}: {have} in stock")
        if quantity == have:
            del self._counts[name]
        else:
            self._counts[name] = have - quantity

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def items(self) -> list[str]:
        """The names in stock, sorted."""
        return sorted(self._counts)
