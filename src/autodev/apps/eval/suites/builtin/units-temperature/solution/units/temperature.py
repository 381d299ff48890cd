"""Temperatures: every unit converted through Kelvin."""

from __future__ import annotations

from units.errors import UnknownUnit

UNITS = ("C", "F", "K")


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "C":
        return value + 273.15
    if unit == "F":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    if unit == "C":
        return value - 273.15
    if unit == "F":
        return (value - 273.15) * 9 / 5 + 32
    return value


def convert_temperature(value: float, from_unit: str, to_unit: str) -> float:
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise UnknownUnit(unit)
    return _from_kelvin(_to_kelvin(value, from_unit), to_unit)
