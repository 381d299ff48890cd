"""Offline token estimates, for budgets decided before a provider has reported anything.

This is a character heuristic (about four characters per token for English and code). Metrics never
use it where a provider reported a figure; a measured tokenizer replaces it with the context issue.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN if text else 0


def cap_to_tokens(text: str, max_tokens: int, note: str) -> tuple[str, bool]:
    """Cut `text` to about `max_tokens`, ending with `note` (which says where the full text is)."""
    if estimate_tokens(text) <= max_tokens:
        return text, False
    keep = max(0, max_tokens * CHARS_PER_TOKEN - len(note) - 2)
    return text[:keep].rstrip() + "\n" + note, True
