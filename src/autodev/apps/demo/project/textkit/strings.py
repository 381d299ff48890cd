"""String helpers: counting and shortening text."""

from __future__ import annotations


def word_count(text: str) -> int:
    """Return the number of whitespace-separated words in ``text``.

    >>> word_count("the quick  brown fox")
    4
    """
    return len(text.split())


def truncate(text: str, width: int, suffix: str = "…") -> str:
    """Shorten ``text`` to at most ``width`` characters.

    When the text is cut, it ends with ``suffix`` (counted in the width).
    Text that already fits is returned unchanged.

    >>> truncate("The quick brown fox", 10)
    'The quick…'
    """
    if width < 0:
        raise ValueError("width must be non-negative")
    if len(text) <= width:
        return text
    if width <= len(suffix):
        return suffix[:width]
    return text[: width - len(suffix)].rstrip() + suffix
