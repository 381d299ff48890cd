"""Splitting text into words: lowercase runs of letters, digits and apostrophes."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The words of `text`, lowercased, in order."""
    return [w.strip("'") for w in _WORD.findall(text.lower()) if w.strip("'")]
