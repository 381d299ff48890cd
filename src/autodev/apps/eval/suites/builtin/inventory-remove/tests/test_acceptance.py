import unittest

import inventory
from inventory import Inventory, InventoryError


class RemoveTests(unittest.TestCase):
    def setUp(self):
        self.stock = Inventory()
        self.stock.add("apple", 5)

    def test_remove_lowers_count(self):
        self.stock.remove("apple", 2)
        self.assertEqual(self.stock.count("apple"), 3)

    def test_remove_all_forgets_item(self):
        self.stock.remove("apple", 5)
        self.assertEqual(self.stock.count("apple"), 0)
        self.assertEqual(self.stock.items(), [])

    def test_insufficient_stock(self):
        from inventory.errors import InsufficientStock

        with self.assertRaises(InsufficientStock):
            self.stock.remove("apple", 6)
        self.assertEqual(self.stock.count("apple"), 5)

    def test_unknown_item_is_insufficient(self):
        with self.assertRaises(InventoryError):
            self.stock.remove("pear", 1)

    def test_exported_and_subclass(self):
        self.assertTrue(issubclass(inventory.InsufficientStock, InventoryError))

    def test_quantity_below_one(self):
        with self.assertRaises(ValueError):
            self.stock.remove("apple", 0)
