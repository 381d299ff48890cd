"""The polyglot leaderboard's headline figures, from `autodev eval` result records.

Aider's leaderboard reports the percentage of exercises solved after the first try and after the
second (the second sees the failing tests' output), the percentage of well-formed replies, and the
cost. Well-formed, for a pipeline of agents rather than one edit format, is the share of results
whose runs all finished without a crash (a provider error, a reply the agent loop could not use):
a run that finished but whose code fails the tests is well-formed and wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    results: int
    pass_rate_1: float | None  # solved on the first try
    pass_rate_2: float | None  # solved after the second (equal to the first with --tries 1)
    well_formed: float | None
    cost_usd: float | None  # over the priced results
    per_language: dict[str, dict[str, float | int | None]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _rate(count: int, n: int) -> float | None:
    return round(count / n, 4) if n else None


def _first(result: Mapping[str, Any]) -> bool:
    return bool((result.get("tries") or [{}])[0].get("passed"))


def _well_formed(result: Mapping[str, Any]) -> bool:
    return all(one.get("status") != "error" for one in result.get("tries") or [])


def headline(results: Sequence[Mapping[str, Any]]) -> Headline:
    n = len(results)
    costs = [float(r["cost_usd"]) for r in results if r.get("cost_usd") is not None]
    languages = sorted({str(r["task"]).split("-", 1)[0] for r in results})
    per_language: dict[str, dict[str, float | int | None]] = {}
    for language in languages:
        mine = [r for r in results if str(r["task"]).startswith(language + "-")]
        per_language[language] = {
            "results": len(mine),
            "pass_rate_1": _rate(sum(_first(r) for r in mine), len(mine)),
            "pass_rate_2": _rate(sum(bool(r["passed"]) for r in mine), len(mine)),
        }
    return Headline(
        results=n,
        pass_rate_1=_rate(sum(_first(r) for r in results), n),
        pass_rate_2=_rate(sum(bool(r["passed"]) for r in results), n),
        well_formed=_rate(sum(_well_formed(r) for r in results), n),
        cost_usd=round(sum(costs), 6) if costs else None,
        per_language=per_language,
    )
