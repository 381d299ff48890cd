import unittest

from shapes import circle_area, rectangle_perimeter, triangle_area
from shapes.report import describe_rectangle


class ShapeTests(unittest.TestCase):
    def test_circle(self):
        self.assertAlmostEqual(circle_area(1), 3.14159, places=4)

    def test_rectangle(self):
        self.assertEqual(rectangle_perimeter(2, 3), 10)

    def test_triangle(self):
        self.assertAlmostEqual(triangle_area(3, 4, 5), 6.0)

    def test_report(self):
        self.assertEqual(describe_rectangle(2, 3), "rectangle 2x3: area 6.00, perimeter 10.00")
