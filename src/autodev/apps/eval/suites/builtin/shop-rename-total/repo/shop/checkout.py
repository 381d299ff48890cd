"""Checkout: the total after a percentage discount."""

from __future__ import annotations

from shop.cart import Line, calc_total


def checkout_total(lines: list[Line], discount_percent: float = 0.0) -> float:
    if not 0 <= discount_percent <= 100:
        raise ValueError("discount must be between 0 and 100")
    return round(calc_total(lines) * (1 - discount_percent / 100), 2)
