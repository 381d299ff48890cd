"""Counts over the words of a text."""

from __future__ import annotations

from textstats.tokenize import words


def word_count(text: str) -> int:
    return len(words(text))


def unique_words(text: str) -> set[str]:
    return set(words(text))
