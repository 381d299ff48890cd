"""One entry point for every kind of unit."""

from __future__ import annotations

from units.errors import UnknownUnit
from units.length import METRES, convert_length
from units.temperature import UNITS as TEMPERATURES
from units.temperature import convert_temperature


def convert(value: float, from_unit: str, to_unit: str) -> float:
    if from_unit in METRES and to_unit in METRES:
        return convert_length(value, from_unit, to_unit)
    if from_unit in TEMPERATURES and to_unit in TEMPERATURES:
        return convert_temperature(value, from_unit, to_unit)
    raise UnknownUnit(f"cannot convert {from_unit} to {to_unit}")
