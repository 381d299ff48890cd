import unittest

from reports.export import to_csv


class ExportTests(unittest.TestCase):
    def test_plain(self):
        rows = [{"name": "Ada", "amount": 3}, {"name": "Bob", "amount": None}]
        self.assertEqual(to_csv(rows, ["name", "amount"]), "name,amount\nAda,3\nBob,\n")
