"""Carts: lists of (name, unit price, quantity)."""

from __future__ import annotations

Line = tuple[str, float, int]


def calc_total(lines: list[Line]) -> float:
    """The cart's total before discounts, rounded to cents."""
    return round(sum(price * quantity for _, price, quantity in lines), 2)
