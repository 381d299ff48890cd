import unittest

from units import UnknownUnit, convert
from units.temperature import convert_temperature


class TemperatureTests(unittest.TestCase):
    def test_boiling_point(self):
        self.assertAlmostEqual(convert_temperature(100, "C", "F"), 212.0)

    def test_fahrenheit_to_kelvin(self):
        self.assertAlmostEqual(convert_temperature(32, "F", "K"), 273.15)

    def test_kelvin_to_celsius(self):
        self.assertAlmostEqual(convert_temperature(0, "K", "C"), -273.15)

    def test_same_unit(self):
        self.assertAlmostEqual(convert_temperature(-40, "C", "F"), -40.0)

    def test_unknown_unit(self):
        with self.assertRaises(UnknownUnit):
            convert_temperature(1, "C", "R")

    def test_registry_handles_temperature(self):
        self.assertAlmostEqual(convert(25, "C", "K"), 298.15)

    def test_registry_still_converts_lengths(self):
        self.assertAlmostEqual(convert(2, "m", "cm"), 200.0)

    def test_registry_refuses_mixing_kinds(self):
        with self.assertRaises(UnknownUnit):
            convert(1, "m", "C")
