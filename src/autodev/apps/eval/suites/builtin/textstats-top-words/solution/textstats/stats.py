"""Counts over the words of a text."""

from __future__ import annotations

from collections import Counter

from textstats.tokenize import words


def word_count(text: str) -> int:
    return len(words(text))


def unique_words(text: str) -> set[str]:
    return set(words(text))


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The `n` most frequent words as (word, count), most frequent first, ties alphabetical."""
    if n < 1:
        return []
    counts = Counter(words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
