import unittest

from shop.checkout import checkout_total
from shop.receipt import receipt

LINES = [("tea", 2.5, 2), ("cake", 3.0, 1)]


class ShopTests(unittest.TestCase):
    def test_checkout(self):
        self.assertEqual(checkout_total(LINES, 10), 7.2)

    def test_receipt(self):
        self.assertEqual(receipt(LINES), "tea x2: 5.00\ncake x1: 3.00\ntotal: 8.00")
