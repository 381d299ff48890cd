"""Word statistics for plain text."""

from textstats.stats import unique_words, word_count

__all__ = ["unique_words", "word_count"]
