"""Reading the reviewer's and security-auditor's `VERDICT:` line (the verdict contract in docs/agents.md).

Tolerant of how real models write the line, strict about what counts. Accepted: `VERDICT: APPROVE`,
`Verdict - APPROVED`, `Final verdict: REQUEST-CHANGES`, `**VERDICT:** CHANGES_REQUESTED`, a heading
`## APPROVE`, and a short remark after the decision (`VERDICT: APPROVE — no blocking findings`).
Not counted: a line quoted from the diff (inside a fenced code block, a `+`/`-` diff line, a `>`
quote) and a verdict mentioned inside a sentence. A reply whose verdict lines disagree (a model that
echoes both templates, "VERDICT: APPROVE or VERDICT: REQUEST_CHANGES") has no verdict: guessing APPROVE
there would let a change through that nobody approved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Decision = Literal["APPROVE", "REQUEST_CHANGES"]

_DECISION = r"(APPROVED?|REQUEST(?:ED)?[\s_-]+CHANGES|CHANGES[\s_-]+REQUESTED)"
_LABEL = r"(?:(?:FINAL|OVERALL|MY)\s+)?VERDICT"
# the whole line after markdown decoration: "<label>: <decision>[ <separator> remark]" or "<decision>" alone
_LINE = re.compile(
    rf"^{_LABEL}[\W_]*?(?:\s+IS)?[\W_]*{_DECISION}(?:\W*$|\s*[-—–:;,.(]\s*(?P<remark>.*)$)", re.IGNORECASE
)
_BARE = re.compile(rf"^{_DECISION}\W*$", re.IGNORECASE)
_ANY_DECISION = re.compile(rf"\b{_DECISION}\b", re.IGNORECASE)
_DECORATION = "*_`#~ \t"
_FENCE = re.compile(r"^\s*(```|~~~)")

ASK_FOR_VERDICT = (
    "Your reply has no verdict line that can be read (none, or both decisions). Reply with your verdict "
    "on a line of its own: `VERDICT: REQUEST_CHANGES` followed by your numbered blocking findings, or "
    "`VERDICT: APPROVE` when you have no blocking finding. One decision only; no code block."
)


@dataclass(frozen=True)
class Verdict:
    decision: Decision | None  # None: no verdict line, or verdict lines that disagree
    findings: str
    conflicting: bool = False  # verdict lines were found but disagree


def _decision_of(line: str) -> Decision | None:
    """The decision a line states as a verdict, or None (not a verdict line, or it names both)."""
    stripped = line.strip()
    if stripped.startswith((">", "+", "-")):
        return None  # a quote or a diff line: someone else's words
    core = stripped.strip(_DECORATION).rstrip(".!").strip(_DECORATION)
    match = _LINE.match(core) or _BARE.match(core)
    if match is None:
        return None
    decision = _normal(match.group(1))
    remark = match.groupdict().get("remark") or ""
    if any(_normal(other) != decision for other in _ANY_DECISION.findall(remark)):
        return None  # "VERDICT: APPROVE or VERDICT: REQUEST_CHANGES": a template echoed, not a decision
    return decision


def _normal(word: str) -> Decision:
    return "APPROVE" if word.upper().startswith("APPROVE") else "REQUEST_CHANGES"


def _own_lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, line) of the lines outside fenced code blocks, unless the whole reply is one block."""
    lines: list[tuple[int, int, str]] = []
    position, fenced = 0, False
    for line in text.splitlines(keepends=True):
        start, position = position, position + len(line)
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((start, position, line))
    if lines and any(line.strip() for _, _, line in lines):
        return lines
    # the model wrapped its whole message in a code block: its own words are inside
    position, lines = 0, []
    for line in text.splitlines(keepends=True):
        start, position = position, position + len(line)
        if not _FENCE.match(line):
            lines.append((start, position, line))
    return lines


def parse_verdict(text: str) -> Verdict:
    """The agent's verdict; findings are what follows the last verdict line (or the whole text before it)."""
    found = [(start, end, decision) for start, end, line in _own_lines(text) if (decision := _decision_of(line))]
    if not found:
        return Verdict(None, text.strip())
    decisions = {decision for _, _, decision in found}
    if len(decisions) > 1:
        return Verdict(None, text.strip(), conflicting=True)
    start, end, decision = found[-1]
    after = _unfenced(text[end:])
    return Verdict(decision, after or _unfenced(text[:start]))


def _unfenced(text: str) -> str:
    """`text` without fence lines at its edges (left over when the whole reply was one code block)."""
    lines = text.strip().splitlines()
    while lines and _FENCE.match(lines[0]):
        lines.pop(0)
    while lines and _FENCE.match(lines[-1]):
        lines.pop()
    return "\n".join(lines).strip()


def with_answer(review: str, answer: str) -> str:
    """A review completed by the answer to the verdict re-ask: the answer's verdict decides.

    A review whose own verdict lines disagreed (both templates echoed) loses those lines, or the
    combined text would disagree again and the re-ask would have been for nothing.
    """
    if parse_verdict(review).conflicting and has_verdict(answer):
        verdict_lines = {start for start, _, line in _own_lines(review) if _decision_of(line)}
        kept, position = [], 0
        for line in review.splitlines(keepends=True):
            if position not in verdict_lines:
                kept.append(line)
            position += len(line)
        review = "".join(kept)
    return f"{review.strip()}\n\n{answer.strip()}".strip()


def has_verdict(text: str) -> bool:
    return parse_verdict(text).decision is not None
