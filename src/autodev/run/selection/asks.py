"""What a request asks for, one ask each: a fast path needs evidence in every one (request.py, rule 3).

Commas split the first line into asks, but not every comma starts one: "In tox.ini, set ..." names the
place of the ask that follows, and "..., right after the introduction, saying ..." qualifies the ask
before. A part is an ask of its own when it starts with a verb, as requests are written in the imperative.
"""

from __future__ import annotations

import re

ISSUE_REF = re.compile(r"\(?(?:[\w.-]+/[\w.-]+)?(?:#|gh-)\d+\)?", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+")
SCOPE = re.compile(r"(?i)(?:in|inside|within|under|for)\s+(?:[^\s,]+\s*){1,3}")  # "In tox.ini, set ..."
ASK_VERB = re.compile(
    r"(?i)(?:and\s+|also\s+)*(?:add|fix|update|remove|delete|drop|change|rename|move|replace|make|use|support|allow|implement|refactor|improve|bump|set|raise|handle|avoid|ensure|introduce|switch|convert|deprecate|clean|document|test|create|enable|disable|simplify|extract|merge|upgrade|pin|require|expose|return|accept|reject|skip|run|build|publish|release|revert|format|lint|check|correct|clarify|mention|describe|explain|note|link)\b"
)


def asks_of(text: str) -> list[str]:
    """What the request asks for, one item each: its first line, and every list item after it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    items = [LIST_ITEM.sub("", line) for line in lines[1:] if LIST_ITEM.match(line)]
    # a part that doesn't start with a verb ("right after Y"), or follows a bare place, belongs to its ask
    asks: list[str] = []
    for part in filter(None, (part.strip() for part in ISSUE_REF.sub(" ", LIST_ITEM.sub("", lines[0])).split(","))):
        if asks and (not ASK_VERB.match(part) or SCOPE.fullmatch(asks[-1])):
            asks[-1] = f"{asks[-1]}, {part}"
        else:
            asks.append(part)
    return asks + items
