import unittest

from catalog.listing import page
from catalog.settings import load


class DefaultsTests(unittest.TestCase):
    def setUp(self):
        self.settings = load()

    def test_page_size(self):
        self.assertEqual(self.settings["listing"]["page_size"], 50)

    def test_compact(self):
        self.assertIs(self.settings["listing"]["compact"], True)

    def test_others_unchanged(self):
        self.assertEqual(self.settings["listing"]["sort"], "name")
        self.assertEqual(self.settings["display"], {"currency": "EUR", "show_stock": True})

    def test_listing_uses_it(self):
        products = [f"p{i:03d}" for i in range(120)]
        self.assertEqual(len(page(products, 1)), 50)
        self.assertEqual(len(page(products, 3)), 20)
