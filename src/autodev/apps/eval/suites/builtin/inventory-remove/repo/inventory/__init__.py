"""A small in-memory stock keeper."""

from inventory.errors import InventoryError
from inventory.store import Inventory

__all__ = ["Inventory", "InventoryError"]
