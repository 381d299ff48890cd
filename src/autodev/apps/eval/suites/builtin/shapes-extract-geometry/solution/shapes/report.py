"""One line of text per shape."""

from __future__ import annotations

from shapes.geometry import circle_area, circle_perimeter, rectangle_area, rectangle_perimeter


def describe_circle(radius: float) -> str:
    return f"circle r={radius}: area {circle_area(radius):.2f}, perimeter {circle_perimeter(radius):.2f}"


def describe_rectangle(width: float, height: float) -> str:
    area, perimeter = rectangle_area(width, height), rectangle_perimeter(width, height)
    return f"rectangle {width}x{height}: area {area:.2f}, perimeter {perimeter:.2f}"
