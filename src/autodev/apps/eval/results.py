"""Result files, the summary of a result set, and the comparison of two.

Each (task, trial) result is one JSON file, `<out>/<task>/<trial>.json`, written atomically when the
task is finished (`write_json_atomic`: temp file, fsync, rename). A file that exists and reads is a
finished task; anything else (missing, half-written by another tool, from another schema) is run
again. That is all an interrupted eval needs to resume.

The summary's solved rate comes with a Wilson 95 % interval because results of the same model vary by
several points between runs: two configurations whose intervals overlap widely are not shown to
differ. With several trials, every (task, trial) is one sample.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.core.errors import UserError
from autodev.core.jsonio import write_json_atomic
from autodev.models.pricing import total_cost
from autodev.run.report import percentile

SCHEMA = 1
Z95 = 1.959963984540054
TOKEN_KEYS = ("input", "output", "cache_read", "cache_write")


def result_path(out: Path, task: str, trial: int) -> Path:
    return out / task / f"{trial}.json"


def write_result(out: Path, result: Mapping[str, Any]) -> Path:
    path = result_path(out, str(result["task"]), int(result["trial"]))
    write_json_atomic(path, dict(result))
    return path


def read_result(path: Path) -> dict[str, Any] | None:
    """A finished result, or None (missing, unreadable, or not a result of this schema)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or "passed" not in data:
        return None
    return data


def load_results(out: Path) -> list[dict[str, Any]]:
    """Every finished result under `out`, sorted by task then trial."""
    if not out.is_dir():
        raise UserError(f"{out} is not a directory of eval results")
    found = []
    for path in sorted(out.glob("*/*.json")):
        if path.stem.isdigit():
            result = read_result(path)
            if result is not None:
                found.append(result)
    return sorted(found, key=lambda r: (str(r["task"]), int(r["trial"])))


# ------------------------------------------------------------------------ statistics
def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion: sound at 0 %, 100 % and small n, unlike p ± z·se."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class AgentTotals:
    """One agent's figures over a result set (its runs in every task and trial)."""

    runs: int = 0
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0  # None when some run's model had no price

    def add(self, row: Mapping[str, Any]) -> None:
        """Add one result's row for this agent (as the result file has it)."""
        self.runs += int(row.get("runs") or 0)
        self.duration_s = round(self.duration_s + float(row.get("duration_s") or 0.0), 6)
        self.input_tokens += int(row.get("input_tokens") or 0)
        self.output_tokens += int(row.get("output_tokens") or 0)
        self.cost_usd = total_cost(self.cost_usd, row.get("cost_usd"))


@dataclass(frozen=True)
class Summary:
    results: int
    tasks: int
    solved: int
    solved_first_try: int
    errors: int  # results where the pipeline crashed rather than finished or failed
    rate: float | None
    interval: tuple[float, float]
    median_s: float | None
    p95_s: float | None
    tokens: dict[str, int]
    cost_usd: float | None  # over the priced results
    priced: int
    cost_per_task: float | None
    cost_per_solved: float | None  # None when some result is unpriced: a sum over part would mislead
    agents: dict[str, AgentTotals]

    def to_json(self) -> dict[str, Any]:
        return {
            "results": self.results,
            "tasks": self.tasks,
            "solved": self.solved,
            "solved_first_try": self.solved_first_try,
            "errors": self.errors,
            "solved_rate": self.rate,
            "solved_rate_95ci": list(self.interval),
            "median_wall_s": self.median_s,
            "p95_wall_s": self.p95_s,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "priced_results": self.priced,
            "unpriced_results": self.results - self.priced,
            "cost_per_task_usd": self.cost_per_task,
            "cost_per_solved_usd": self.cost_per_solved,
            "agents": {name: asdict(totals) for name, totals in self.agents.items()},
        }


def _agent_totals(results: Iterable[Mapping[str, Any]]) -> dict[str, AgentTotals]:
    totals: dict[str, AgentTotals] = defaultdict(AgentTotals)
    for result in results:
        for name, row in (result.get("agents") or {}).items():
            totals[name].add(row)
    return dict(sorted(totals.items()))


def summarize(results: Sequence[Mapping[str, Any]]) -> Summary:
    n = len(results)
    solved = sum(1 for r in results if r["passed"])
    first = sum(1 for r in results if (r.get("tries") or [{}])[0].get("passed"))
    times = [float(r.get("wall_s") or 0.0) for r in results]
    tokens = {key: sum(int((r.get("tokens") or {}).get(key) or 0) for r in results) for key in TOKEN_KEYS}
    costs = [r.get("cost_usd") for r in results]
    priced = [float(c) for c in costs if c is not None]
    cost = round(sum(priced), 6) if priced else None
    return Summary(
        results=n,
        tasks=len({r["task"] for r in results}),
        solved=solved,
        solved_first_try=first,
        errors=sum(1 for r in results if r.get("status") == "error"),
        rate=solved / n if n else None,
        interval=wilson(solved, n),
        median_s=round(statistics.median(times), 3) if times else None,
        p95_s=round(percentile(times, 95), 3) if times else None,
        tokens=tokens,
        cost_usd=cost,
        priced=len(priced),
        cost_per_task=round(sum(priced) / len(priced), 6) if priced else None,
        cost_per_solved=round(sum(priced) / solved, 6) if solved and priced and len(priced) == n else None,
        agents=_agent_totals(results),
    )


# ------------------------------------------------------------------------ comparison
def task_rates(results: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """task -> (trials passed, trials)."""
    rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        entry = rates[str(result["task"])]
        entry[0] += 1 if result["passed"] else 0
        entry[1] += 1
    return {task: (passed, total) for task, (passed, total) in sorted(rates.items())}


def solved(rate: tuple[int, int]) -> bool:
    """A task counts as solved in a result set when at least half its trials passed."""
    return rate[1] > 0 and 2 * rate[0] >= rate[1]


def compare(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The tasks whose outcome flipped between two result sets, and those only one set has."""
    rates_a, rates_b = task_rates(a), task_rates(b)
    common = sorted(set(rates_a) & set(rates_b))
    flipped = [
        {
            "task": task,
            "a": list(rates_a[task]),
            "b": list(rates_b[task]),
            "now": "solved" if solved(rates_b[task]) else "failed",
        }
        for task in common
        if solved(rates_a[task]) != solved(rates_b[task])
    ]
    return {
        "a": summarize(a).to_json(),
        "b": summarize(b).to_json(),
        "common_tasks": len(common),
        "flipped": flipped,
        "fixed": [row["task"] for row in flipped if row["now"] == "solved"],
        "broken": [row["task"] for row in flipped if row["now"] == "failed"],
        "only_in_a": sorted(set(rates_a) - set(rates_b)),
        "only_in_b": sorted(set(rates_b) - set(rates_a)),
    }
