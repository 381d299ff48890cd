"""One entry point for every kind of unit."""

from __future__ import annotations

from units.errors import UnknownUnit
from units.length import METRES, convert_length


def convert(value: float, from_unit: str, to_unit: str) -> float:
    if from_unit in METRES and to_unit in METRES:
        return convert_length(value, from_unit, to_unit)
    raise UnknownUnit(f"cannot convert {from_unit} to {to_unit}")
