"""`autodev eval validate`: is every task fair? The oracle must pass it and the null model must fail it.

For SWE-bench instances the oracle writes the gold patch's files and "pass" is the local grade
(`swebench.local_grade`): the gold patch must resolve the instance and the untouched project must not.

Apart from the eval because it needs no provider and no result directory: it runs each task with the
two bundled models and reports flags instead of a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from autodev.apps.eval.harness import run_units
from autodev.apps.eval.models import null_provider, oracle_provider
from autodev.apps.eval.options import EvalOptions, OnResult, ProviderFactory
from autodev.apps.eval.swebench.dataset import Instance
from autodev.apps.eval.swebench.gold import gold_provider
from autodev.apps.eval.swebench.runner import InstanceProvider, SwebenchOptions, instance_task, run_instance
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


def validate_swebench(
    instances: Sequence[Instance],
    repos: Path | None,
    jobs: int = 1,
    on_result: OnResult | None = None,
    workdir: Path | None = None,
) -> list[dict[str, Any]]:
    """Each instance with the oracle (its gold patch must resolve it locally) and the null model (must not)."""
    base = SwebenchOptions(predictions=Path("validate.jsonl"), repos=repos, grade=True)
    opts = replace(base, eval=EvalOptions(cli=VALIDATE_CLI, workdir=workdir))
    by_id = {i.instance_id: i for i in instances}
    units = [(instance_task(i), which) for i in instances for which in (0, 1)]

    def one(task: Task, which: int) -> dict[str, Any]:
        instance = by_id[task.name]
        factory: InstanceProvider = (
            (lambda inst, repo: gold_provider(repo, inst.patch)) if which == 0 else (lambda inst, repo: null_provider())
        )
        _, meta = run_instance(instance, opts, factory, None)
        grade = meta["local_grade"] or {}
        return {
            "task": task.name,
            "model": "oracle" if which == 0 else "null",
            "passed": bool(grade.get("resolved")),
            "status": "passed" if grade.get("resolved") else "failed",
            "tests_passed": grade.get("tests_passed", 0),
            "tests_total": grade.get("tests_total"),
            "run_status": meta["run_status"],
            "change_type": {"before": None},
            "grade": {"note": grade.get("note")},
            "error": meta["error"],
            "wall_s": meta["wall_s"],
            "tokens": meta["tokens"] | {"cache_read": 0, "cache_write": 0},
            "cost_usd": meta["cost_usd"],
        }

    results = run_units(units, one, jobs, on_result)
    rows = []
    for instance in instances:
        mine = {r["model"]: r for r in results if r["task"] == instance.instance_id}
        flags = (["oracle fails"] if not mine["oracle"]["passed"] else []) + (
            ["null passes"] if mine["null"]["passed"] else []
        )
        rows.append(
            {
                "task": instance.instance_id,
                "category": "swebench",
                "oracle": _brief(mine["oracle"]),
                "null": _brief(mine["null"]),
                "flags": flags,
            }
        )
    return rows
