"""One page of a list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class PageOutOfRange(IndexError):
    pass


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    pages: int

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_count(total: int, per_page: int) -> int:
    return max(1, total // per_page)


def paginate(items: Sequence[Any], page: int, per_page: int = 10) -> Page:
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = page_count(len(items), per_page)
    if not 1 <= page <= pages:
        raise PageOutOfRange(f"page {page} of {pages}")
    start = (page - 1) * per_page
    return Page(list(items[start : start + per_page]), page, pages)
