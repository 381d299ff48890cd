import csv
import io
import unittest

from reports.export import to_csv
from reports.summary import summary_csv


def read_back(text):
    return list(csv.reader(io.StringIO(text)))


class QuotingTests(unittest.TestCase):
    def test_plain_output_unchanged(self):
        rows = [{"name": "Ada", "amount": 3}, {"name": "Bob", "amount": None}]
        self.assertEqual(to_csv(rows, ["name", "amount"]), "name,amount\nAda,3\nBob,\n")

    def test_comma_round_trips(self):
        text = to_csv([{"name": "Smith, Jane", "amount": 2}], ["name", "amount"])
        self.assertEqual(read_back(text), [["name", "amount"], ["Smith, Jane", "2"]])

    def test_quote_round_trips(self):
        text = to_csv([{"name": 'The "Best" Co', "amount": 1}], ["name", "amount"])
        self.assertEqual(read_back(text)[1], ['The "Best" Co', "1"])

    def test_newline_round_trips(self):
        text = to_csv([{"name": "two\nlines", "amount": 1}], ["name", "amount"])
        self.assertEqual(read_back(text)[1], ["two\nlines", "1"])

    def test_line_endings(self):
        text = to_csv([{"name": "a, b", "amount": 1}], ["name", "amount"])
        self.assertNotIn("\r", text)
        self.assertTrue(text.endswith("\n"))

    def test_summary_uses_export(self):
        text = summary_csv([{"name": "Smith, Jane", "amount": 2}], "amount")
        self.assertEqual(read_back(text), [["name", "amount"], ["Smith, Jane", "2"], ["", "2.0"]])
