"""Pages of products."""

from __future__ import annotations

from catalog.settings import load


def page(products: list[str], number: int = 1) -> list[str]:
    size = int(load()["listing"]["page_size"])
    start = (number - 1) * size
    return sorted(products)[start : start + size]
