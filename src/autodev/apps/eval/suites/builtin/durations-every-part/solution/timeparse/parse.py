"""Text to seconds: "1h30m" -> 5400."""

from __future__ import annotations

import re

from timeparse.units import SECONDS

_PART = re.compile(r"(\d+)([dhms])")
_WHOLE = re.compile(r"(?:\d+[dhms])+")


class InvalidDuration(ValueError):
    pass


def parse_duration(text: str) -> int:
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidDuration(f"not a duration: {text!r}")
    total = 0
    for amount, unit in _PART.findall(cleaned):
        total += int(amount) * SECONDS[unit]
    return total
