"""Errors raised by the inventory."""


class InventoryError(Exception):
    """Base class of every inventory error."""
