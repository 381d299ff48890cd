"""Capped text: long tool and process output cut to a size a model can take, saying what was left out."""

from __future__ import annotations

DEFAULT_OUTPUT_CAP = 30_000  # characters of one tool result handed to the model

DEFAULT_CAP_HINT = "narrow the request (a line range or a path) to see them"


def cap_output(text: str, limit: int = DEFAULT_OUTPUT_CAP, hint: str = DEFAULT_CAP_HINT) -> str:
    """Keep the head and tail of an oversized result, and say what was left out and how to get it.

    Cuts move to a line boundary when one is near, so the model sees whole lines on both sides.
    """
    if len(text) <= limit:
        return text
    head_end, tail_start = limit * 2 // 3, len(text) - limit // 3
    newline = text.rfind("\n", 0, head_end)
    if newline >= head_end // 2:
        head_end = newline + 1
    newline = text.find("\n", tail_start)
    if newline != -1 and newline < tail_start + (limit // 3) // 2:
        tail_start = newline + 1
    head, tail = text[:head_end], text[tail_start:]
    omitted = len(text) - len(head) - len(tail)
    lines = text.count("\n", head_end, tail_start)
    counted = f" ({lines} lines)" if lines else ""
    marker = f"\n[... {omitted} characters omitted{counted}; {hint} ...]\n"
    return head + marker + tail
