"""Text that fits the screen: cut one line to a width, wrap a paragraph under a label.

Screens are laid out for 80 columns (the narrowest terminal people use): fixed columns add up to
at most 80, and free text (a command, a path, a hint) wraps instead of running off the edge.
"""

from __future__ import annotations

import textwrap

NARROW = 80  # the width every screen is laid out for


def fit(text: str, width: int) -> str:
    """`text` on one line of at most `width` characters: cut with an ellipsis when longer."""
    line = " ".join(text.split())
    if width <= 0:
        return ""
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def wrap(text: str, width: int, *, label: str = "", indent: int | None = None) -> list[str]:
    """`label` + `text` wrapped to `width` columns; the lines after the first start `indent` spaces in
    (default: under the text, past the label). Words are never split at hyphens (agent names)."""
    hang = len(label) if indent is None else indent
    return textwrap.wrap(
        " ".join(text.split()),
        width=max(width, hang + 10),
        initial_indent=label,
        subsequent_indent=" " * hang,
        break_on_hyphens=False,
    ) or [label.rstrip()]


def wrap_items(
    items: list[str], width: int, *, label: str = "", joiner: str = ", ", indent: int | None = None
) -> list[str]:
    """`items` joined by `joiner` after `label`, wrapped between items only: an item such as
    `retrieval 1.82s` or an agent name stays whole unless it alone is wider than the screen. The lines
    after the first start `indent` spaces in (default: past the label)."""
    hang = " " * (len(label) if indent is None else indent)
    tail = joiner.rstrip()
    pieces = [item + (tail if index < len(items) - 1 else "") for index, item in enumerate(items)]
    lines: list[str] = []
    line, empty = label, True
    for piece in pieces:
        if not empty and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line, empty = hang, True
        line += ("" if empty else " ") + piece
        empty = False
    lines.append(line)
    return [text.rstrip() for text in lines]
