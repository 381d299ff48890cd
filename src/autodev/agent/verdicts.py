"""Reading the reviewer's and security-auditor's `VERDICT:` line (the verdict contract in docs/agents.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_VERDICT = re.compile(r"^\W*VERDICT\W*:\W*(APPROVE|REQUEST[_ ]CHANGES)\W*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Verdict:
    decision: Literal["APPROVE", "REQUEST_CHANGES"] | None  # None: no verdict line
    findings: str


def parse_verdict(text: str) -> Verdict:
    """The last VERDICT line wins; findings are what follows it (or the whole text when nothing does)."""
    matches = list(_VERDICT.finditer(text))
    if not matches:
        return Verdict(None, text.strip())
    last = matches[-1]
    decision: Literal["APPROVE", "REQUEST_CHANGES"] = (
        "APPROVE" if last.group(1).upper() == "APPROVE" else "REQUEST_CHANGES"
    )
    after = text[last.end() :].strip()
    return Verdict(decision, after or text[: last.start()].strip())
