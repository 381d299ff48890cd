"""Word statistics for plain text."""

from textstats.stats import top_words, unique_words, word_count

__all__ = ["top_words", "unique_words", "word_count"]
