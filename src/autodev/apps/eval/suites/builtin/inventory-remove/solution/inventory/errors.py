"""Errors raised by the inventory."""


class InventoryError(Exception):
    """Base class of every inventory error."""


class InsufficientStock(InventoryError):
    """Raised when more of an item is removed than is in stock."""
