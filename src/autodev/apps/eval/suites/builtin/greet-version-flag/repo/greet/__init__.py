"""A friendly command-line greeter."""

__version__ = "1.2.0"
