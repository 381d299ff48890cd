"""Carts: lists of (name, unit price, quantity)."""

from __future__ import annotations

import warnings

Line = tuple[str, float, int]


def cart_total(lines: list[Line]) -> float:
    """The cart's total before discounts, rounded to cents."""
    return round(sum(price * quantity for _, price, quantity in lines), 2)


def calc_total(lines: list[Line]) -> float:
    """Deprecated: use `cart_total`."""
    warnings.warn("calc_total is deprecated; use cart_total", DeprecationWarning, stacklevel=2)
    return cart_total(lines)
