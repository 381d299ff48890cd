"""Human-friendly durations."""

from timeparse.format import format_duration
from timeparse.parse import InvalidDuration, parse_duration

__all__ = ["InvalidDuration", "format_duration", "parse_duration"]
