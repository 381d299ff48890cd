"""A small in-memory stock keeper."""

from inventory.errors import InsufficientStock, InventoryError
from inventory.store import Inventory

__all__ = ["InsufficientStock", "Inventory", "InventoryError"]
