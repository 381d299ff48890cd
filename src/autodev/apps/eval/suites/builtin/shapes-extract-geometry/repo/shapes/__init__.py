"""Areas and perimeters of simple shapes."""

from __future__ import annotations

import math


def circle_area(radius: float) -> float:
    return math.pi * radius**2


def circle_perimeter(radius: float) -> float:
    return 2 * math.pi * radius


def rectangle_area(width: float, height: float) -> float:
    return width * height


def rectangle_perimeter(width: float, height: float) -> float:
    return 2 * (width + height)


def triangle_area(a: float, b: float, c: float) -> float:
    """Heron's formula."""
    s = (a + b + c) / 2
    return math.sqrt(s * (s - a) * (s - b) * (s - c))


def triangle_perimeter(a: float, b: float, c: float) -> float:
    return a + b + c
