import unittest

from inventory import Inventory


class AddTests(unittest.TestCase):
    def test_add_counts_up(self):
        stock = Inventory()
        stock.add("apple", 2)
        stock.add("apple")
        self.assertEqual(stock.count("apple"), 3)

    def test_add_rejects_zero(self):
        with self.assertRaises(ValueError):
            Inventory().add("apple", 0)

    def test_items_sorted(self):
        stock = Inventory()
        stock.add("pear")
        stock.add("apple")
        self.assertEqual(stock.items(), ["apple", "pear"])
