import ast
import inspect
import unittest

import shapes
import shapes.report
from shapes import geometry

NAMES = (
    "circle_area", "circle_perimeter", "rectangle_area", "rectangle_perimeter", "triangle_area", "triangle_perimeter",
)


class ExtractTests(unittest.TestCase):
    def test_defined_in_geometry(self):
        for name in NAMES:
            self.assertEqual(getattr(geometry, name).__module__, "shapes.geometry", name)

    def test_package_reexports(self):
        for name in NAMES:
            self.assertIs(getattr(shapes, name), getattr(geometry, name), name)

    def test_package_defines_none(self):
        tree = ast.parse(inspect.getsource(shapes))
        defined = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        self.assertEqual(defined, [])

    def test_report_imports_geometry(self):
        tree = ast.parse(inspect.getsource(shapes.report))
        sources = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        self.assertIn("shapes.geometry", sources)

    def test_behaviour(self):
        self.assertAlmostEqual(shapes.circle_perimeter(1), 6.28318, places=4)
        self.assertAlmostEqual(geometry.triangle_area(3, 4, 5), 6.0)
        self.assertEqual(geometry.triangle_perimeter(3, 4, 5), 12)
        self.assertEqual(shapes.report.describe_circle(1), "circle r=1: area 3.14, perimeter 6.28")
