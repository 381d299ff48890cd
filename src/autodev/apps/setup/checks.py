"""One line of `autodev doctor`: what was checked, how it went, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CheckStatus = Literal["ok", "warn", "fail"]
MARKS: dict[CheckStatus, str] = {"ok": "✓", "warn": "!", "fail": "✗"}


@dataclass(frozen=True)
class Check:
    """`warn`: worth knowing, but a run works (a dirty checkout, tests already failing at HEAD); only `fail` fails."""

    name: str
    status: CheckStatus
    detail: str
    fix: str = ""  # what to do, for a warning or a failure

    def line(self) -> str:
        fix = f" — {self.fix}" if self.fix and self.status != "ok" else ""
        return f"{MARKS[self.status]} {self.name}: {self.detail}{fix}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, "fail", detail, fix)
