import unittest

from timeparse import InvalidDuration, format_duration, parse_duration


class EveryPartTests(unittest.TestCase):
    def test_hours_and_minutes(self):
        self.assertEqual(parse_duration("1h30m"), 5400)

    def test_minutes_and_seconds(self):
        self.assertEqual(parse_duration("2m5s"), 125)

    def test_days_and_hours(self):
        self.assertEqual(parse_duration("1d2h"), 93600)

    def test_all_units(self):
        self.assertEqual(parse_duration("1d1h1m1s"), 90061)

    def test_case_and_spaces(self):
        self.assertEqual(parse_duration(" 1H30M "), 5400)

    def test_round_trip(self):
        for seconds in (1, 59, 61, 3600, 5400, 90061):
            self.assertEqual(parse_duration(format_duration(seconds)), seconds)

    def test_format_unchanged(self):
        self.assertEqual(format_duration(0), "0s")
        self.assertEqual(format_duration(90061), "1d1h1m1s")

    def test_still_rejects_garbage(self):
        for text in ("", "1x", "h1"):
            with self.assertRaises(InvalidDuration):
                parse_duration(text)
