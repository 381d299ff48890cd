"""textkit: small text helpers, standard library only."""

from textkit.strings import truncate, word_count

__all__ = ["truncate", "word_count"]
__version__ = "0.1.0"
