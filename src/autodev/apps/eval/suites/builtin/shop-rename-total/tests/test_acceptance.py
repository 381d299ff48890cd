import unittest
import warnings

from shop import cart
from shop.checkout import checkout_total
from shop.receipt import receipt

LINES = [("tea", 2.5, 2), ("cake", 3.0, 1)]


class RenameTests(unittest.TestCase):
    def test_cart_total(self):
        self.assertEqual(cart.cart_total(LINES), 8.0)

    def test_alias_warns(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertEqual(cart.calc_total(LINES), 8.0)
        self.assertTrue(any(issubclass(w.category, DeprecationWarning) for w in caught))

    def test_callers_use_the_new_name(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            self.assertEqual(checkout_total(LINES, 10), 7.2)
            self.assertEqual(receipt(LINES), "tea x2: 5.00\ncake x1: 3.00\ntotal: 8.00")
