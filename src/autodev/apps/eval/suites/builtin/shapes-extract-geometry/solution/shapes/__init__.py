"""Areas and perimeters of simple shapes."""

from shapes.geometry import (
    circle_area,
    circle_perimeter,
    rectangle_area,
    rectangle_perimeter,
    triangle_area,
    triangle_perimeter,
)

__all__ = [
    "circle_area",
    "circle_perimeter",
    "rectangle_area",
    "rectangle_perimeter",
    "triangle_area",
    "triangle_perimeter",
]
