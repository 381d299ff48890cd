"""A plain-text receipt."""

from __future__ import annotations

from shop import cart


def receipt(lines: list[cart.Line]) -> str:
    rows = [f"{name} x{quantity}: {price * quantity:.2f}" for name, price, quantity in lines]
    rows.append(f"total: {cart.cart_total(lines):.2f}")
    return "\n".join(rows)
