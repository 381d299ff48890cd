import unittest

from units import UnknownUnit, convert


class LengthTests(unittest.TestCase):
    def test_km_to_m(self):
        self.assertAlmostEqual(convert(1.5, "km", "m"), 1500.0)

    def test_feet_to_inches(self):
        self.assertAlmostEqual(convert(1, "ft", "in"), 12.0)

    def test_unknown(self):
        with self.assertRaises(UnknownUnit):
            convert(1, "m", "parsec")
