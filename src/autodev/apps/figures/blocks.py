"""Finding and rewriting the figures blocks of a markdown text: pure functions, no commands run here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_OPEN = re.compile(r"^<!-- figures(?: (?P<kind>slow|machine-dependent))?: (?P<command>.+?) -->$")
_CLOSE = "<!-- /figures -->"
STAMP = re.compile(r"^Measured (?P<date>\d{4}-\d{2}-\d{2}) on (?P<machine>.+)$")


class Kind(StrEnum):
    CHECKED = "checked"
    SLOW = "slow"
    MACHINE = "machine-dependent"


@dataclass(frozen=True)
class Block:
    """One marked block: its command, kind, and where it sits (0-based line numbers of the markers)."""

    command: str
    kind: Kind
    open_line: int
    close_line: int
    body: tuple[str, ...]

    @property
    def output(self) -> str:
        """The command output the block shows: the lines of its fenced code block."""
        lines = list(self.body)
        if "```text" not in lines:
            return ""
        start = lines.index("```text") + 1
        end = lines.index("```", start) if "```" in lines[start:] else len(lines)
        return "\n".join(lines[start:end])

    @property
    def stamp(self) -> str | None:
        """The `Measured DATE on MACHINE` line of a machine-dependent block."""
        return next((line for line in self.body if STAMP.match(line)), None)


class BlockError(ValueError):
    """A marker without its end, or an end without its marker."""


def find_blocks(text: str) -> list[Block]:
    lines = text.split("\n")
    blocks: list[Block] = []
    index = 0
    fenced = False  # inside a code block that is not a figures block: markers there are examples
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or line.lstrip().startswith("```"):
            index += 1
            continue
        if line.strip() == _CLOSE:
            raise BlockError(f"line {index + 1}: {_CLOSE} without a figures marker before it")
        match = _OPEN.match(line.strip())
        if match is None:
            if line.lstrip().startswith("<!-- figures"):
                raise BlockError(f"line {index + 1}: not a figures marker: {line.strip()}")
            index += 1
            continue
        close = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == _CLOSE), None)
        if close is None:
            raise BlockError(f"line {index + 1}: figures block without {_CLOSE}")
        nested = next((i for i in range(index + 1, close) if _OPEN.match(lines[i].strip())), None)
        if nested is not None:
            raise BlockError(f"line {index + 1}: figures block not closed before line {nested + 1}")
        kind = Kind(match.group("kind") or "checked")
        blocks.append(Block(match.group("command"), kind, index, close, tuple(lines[index + 1 : close])))
        index = close + 1
    return blocks


def normalised(output: str) -> str:
    """Output as a block holds it: no trailing spaces, no blank lines at either end, no tabs."""
    lines = [line.rstrip().expandtabs() for line in output.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def body_for(kind: Kind, output: str, stamp: str | None) -> list[str]:
    body = ["```text", *normalised(output).split("\n"), "```"]
    if kind is Kind.MACHINE and stamp:
        body.append(stamp)
    return body


def rewrite(text: str, outputs: dict[int, list[str]]) -> str:
    """`text` with the body of each block (by its open line) replaced; other blocks stay as they are."""
    lines = text.split("\n")
    for block in sorted(find_blocks(text), key=lambda b: b.open_line, reverse=True):
        if block.open_line in outputs:
            lines[block.open_line + 1 : block.close_line] = outputs[block.open_line]
    return "\n".join(lines)
