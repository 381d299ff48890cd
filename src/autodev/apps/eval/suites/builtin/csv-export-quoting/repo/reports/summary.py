"""Totals over rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reports.export import to_csv


def totals(rows: Iterable[Mapping[str, Any]], column: str) -> float:
    return sum(float(row.get(column) or 0) for row in rows)


def summary_csv(rows: list[Mapping[str, Any]], column: str) -> str:
    return to_csv([*rows, {column: totals(rows, column)}], ["name", column])
