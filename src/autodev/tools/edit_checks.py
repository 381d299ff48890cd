"""The checks Write and Edit make before they change a file, as pure functions of text.

Each one catches a habit of real models that otherwise costs a run: copying Read's line-number prefixes
into `old_string`, writing `# ... existing code ...` instead of the code (the file loses what the
placeholder stood for), an edit that leaves a `.py` file unparsable (every later test run fails with a
syntax error far from its cause), and an `old_string` that almost matches (the hint shows the nearest
lines, so the next attempt copies them exactly).
"""

from __future__ import annotations

import ast
import difflib
import re

from autodev.sandbox.workspace import ToolError

LINE_PREFIX = re.compile(r"^\s*\d+\t")  # Read shows each line as "{number:6}\t{text}"
PLACEHOLDER = re.compile(
    r"^\s*(?:#|//|/\*|<!--|--|;)\s*(?:\.{3}|…)\s*\(?\s*(?:the\s+)?"
    r"(?:existing|rest|remaining|unchanged|same|previous|other|original|more|omitted|code|implementation)\b"
    r".*$",
    re.IGNORECASE,
)
HINT_LINES_LIMIT = 400  # an old_string longer than this many lines gets no nearest-match search
HINT_MIN_RATIO = 0.6
CONTEXT_LINES = 3


def numbered(lines: list[str], first: int) -> str:
    """Lines in Read's format, the first numbered `first`."""
    return "\n".join(f"{first + i:6}\t{line}" for i, line in enumerate(lines))


def check_line_prefixes(shown: str, old: str, new: str) -> None:
    """Refuse strings whose every line starts with Read's `   12<tab>` prefix (when the file lacks them)."""
    for name, text in (("old_string", old), ("new_string", new)):
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and all(LINE_PREFIX.match(line) for line in lines):
            raise ToolError(
                f"{shown}: {name} starts every line with a line number and a tab, as Read shows them; those "
                "are not in the file. Copy only the text after the tab."
            )


def check_placeholders(shown: str, new: str, before: str) -> None:
    """Refuse placeholder lines (`# ... existing code ...`) that `before` did not already contain."""
    had = {line.strip() for line in before.splitlines()}
    for number, line in enumerate(new.splitlines(), 1):
        if PLACEHOLDER.match(line) and line.strip() not in had:
            raise ToolError(
                f"{shown}: line {number} of the new text is a placeholder ({line.strip()!r}); it would replace "
                "real code with a comment. Write the code out in full, or Edit only the part that changes."
            )


def check_python(shown: str, before: str | None, after: str) -> None:
    """Refuse a `.py` text that does not parse, unless the file did not parse before either."""
    try:
        compile(after, shown, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_TYPE_COMMENTS, dont_inherit=True)
        compile(after, shown, "exec", dont_inherit=True)  # the compiler's own checks ('return' outside a function)
    except SyntaxError as exc:
        if before is not None and not _parses(before, shown):
            return  # already broken: the agent may be fixing it step by step
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        line = (exc.text or "").strip()
        raise ToolError(
            f"{shown}: the change would leave the file unparsable ({exc.msg} at {where}"
            + (f": {line!r}" if line else "")
            + "); nothing was written. Fix the new text and try again."
        ) from None


def _parses(text: str, shown: str) -> bool:
    try:
        compile(text, shown, "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def nearest_lines(text: str, old: str) -> str | None:
    """The lines of `text` most like `old` (same number of lines), in Read's format; None if nothing is close."""
    wanted = old.strip("\n").splitlines()
    lines = text.splitlines()
    if not wanted or len(wanted) > HINT_LINES_LIMIT or not lines:
        return None
    size = min(len(wanted), len(lines))
    target = "\n".join(line.strip() for line in wanted)
    best, best_at = 0.0, 0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for start in range(len(lines) - size + 1):
        matcher.set_seq1("\n".join(line.strip() for line in lines[start : start + size]))
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_at = ratio, start
    if best < HINT_MIN_RATIO:
        return None
    return numbered(lines[best_at : best_at + size], best_at + 1)


def snippet_around(text: str, start: int, length: int) -> str:
    """A few numbered lines around the characters [start, start+length) of `text`: what an edit left."""
    lines = text.splitlines()
    first = text.count("\n", 0, start)
    last = first + text.count("\n", start, start + length)
    low, high = max(0, first - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES + 1)
    return numbered(lines[low:high], low + 1)
