"""Unit conversions."""

from units.errors import UnknownUnit
from units.registry import convert

__all__ = ["UnknownUnit", "convert"]
