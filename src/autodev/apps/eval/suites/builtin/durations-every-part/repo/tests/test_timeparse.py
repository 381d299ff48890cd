import unittest

from timeparse import InvalidDuration, format_duration, parse_duration


class TimeparseTests(unittest.TestCase):
    def test_single_part(self):
        self.assertEqual(parse_duration("90s"), 90)

    def test_invalid(self):
        with self.assertRaises(InvalidDuration):
            parse_duration("soon")

    def test_format(self):
        self.assertEqual(format_duration(5400), "1h30m")
