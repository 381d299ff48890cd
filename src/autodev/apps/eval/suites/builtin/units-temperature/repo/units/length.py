"""Lengths: every unit as a factor of one metre."""

from __future__ import annotations

from units.errors import UnknownUnit

METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048}


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    for unit in (from_unit, to_unit):
        if unit not in METRES:
            raise UnknownUnit(unit)
    return value * METRES[from_unit] / METRES[to_unit]
