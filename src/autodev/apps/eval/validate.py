"""`autodev eval validate`: is every task fair? The oracle must pass it and the null model must fail it.

Apart from the eval because it needs no provider and no result directory: it runs each task with the
two bundled models and reports flags instead of a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autodev.apps.eval.harness import run_units
from autodev.apps.eval.models import null_provider, oracle_provider
from autodev.apps.eval.options import EvalOptions, OnResult, ProviderFactory
from autodev.apps.eval.tasks import Task
from autodev.apps.eval.trial import run_task
from autodev.config.settings import CliOverrides

VALIDATE_CLI = CliOverrides(provider="scripted")  # tier model ids for models that need no provider


def validate(
    tasks: Sequence[Task], jobs: int = 1, on_result: OnResult | None = None, workdir: Path | None = None
) -> list[dict[str, Any]]:
    """Each task with the oracle (must pass) and the null model (must fail); flags unfair tasks."""
    opts = EvalOptions(cli=VALIDATE_CLI, workdir=workdir)
    units: list[tuple[Task, int]] = []
    for task in tasks:
        if task.solution:
            units.append((task, 0))  # 0: oracle, 1: null
        units.append((task, 1))

    def one(task: Task, which: int) -> dict[str, Any]:
        factory: ProviderFactory = (
            (lambda t: oracle_provider(t.solution_texts())) if which == 0 else (lambda t: null_provider())
        )
        result = run_task(task, 1, opts, factory)
        result["model"] = "oracle" if which == 0 else "null"
        return result

    results = run_units(units, one, jobs, on_result)
    rows = []
    for task in tasks:
        mine = {r["model"]: r for r in results if r["task"] == task.name}
        oracle, null = mine.get("oracle"), mine["null"]
        flags = []
        if oracle is None:
            flags.append("no reference solution")
        elif not oracle["passed"]:
            flags.append("oracle fails")
        if null["passed"]:
            flags.append("null passes")
        rows.append(
            {
                "task": task.name,
                "category": task.category,
                "oracle": _brief(oracle) if oracle else None,
                "null": _brief(null),
                "flags": flags,
            }
        )
    return rows


def _brief(result: Mapping[str, Any]) -> dict[str, Any]:
    change = result.get("change_type") or {}
    return {
        "passed": result["passed"],
        "tests_passed": result["tests_passed"],
        "tests_total": result["tests_total"],
        "run_status": result["run_status"],
        "change_type": change.get("before"),
        "note": result["grade"].get("note") or result.get("error"),
    }
