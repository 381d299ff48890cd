"""The result record of one (task, trial): its grade and the figures its runs' metrics hold.

Apart from running the trial because it is a summary of what is on disk afterwards (each pass's
metrics.jsonl and state), and the result files, `eval report` and comparisons all read its shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autodev.apps.eval.grading import Grade
from autodev.apps.eval.one_pass import Pass
from autodev.apps.eval.results import SCHEMA
from autodev.apps.eval.tasks import Task
from autodev.core.clock import iso, utc_now
from autodev.core.records import read_metrics
from autodev.models.pricing import total_cost
from autodev.run.report import agent_rows


def agent_figures(passes: Sequence[Pass]) -> dict[str, dict[str, Any]]:
    """Per agent over all passes: runs, time, turns, tokens, cost (None when a model had no price)."""
    merged: dict[str, dict[str, Any]] = {}
    for one in passes:
        if one.run_dir is None:
            continue
        for row in agent_rows(read_metrics(one.run_dir / "metrics.jsonl")):
            entry = merged.setdefault(
                row.agent,
                {
                    "status": row.status, "skip_reason": row.skip_reason, "tier": row.tier, "model": row.model,
                    "runs": 0, "duration_s": 0.0, "turns": 0, "input_tokens": 0, "output_tokens": 0,
                    "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.0,
                },
            )  # fmt: skip
            if row.status == "skipped" and entry["runs"]:
                continue  # skipped in a later pass (the retry runs the implementer alone): keep what it did
            entry.update(status=row.status, skip_reason=row.skip_reason, model=row.model or entry["model"])
            entry["runs"] += row.runs
            entry["duration_s"] = round(entry["duration_s"] + row.duration_s, 6)
            entry["turns"] += row.turns
            for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
                entry[key] += getattr(row, key)
            if entry["cost_usd"] is None or row.cost_usd is None:
                entry["cost_usd"] = None
            else:
                entry["cost_usd"] = round(entry["cost_usd"] + row.cost_usd, 8)
    return dict(sorted(merged.items()))


def result_record(
    task: Task, trial: int, tries: Sequence[tuple[Pass, Grade]], started: Any, kept: Path | None
) -> dict[str, Any]:
    passes = [one for one, _ in tries]
    last_pass, final = tries[-1]
    agents = agent_figures(passes)
    tokens = {
        key: sum(int(row[f"{key}_tokens"]) for row in agents.values())
        for key in ("input", "output", "cache_read", "cache_write")
    }
    costs = [row["cost_usd"] for row in agents.values() if row["runs"]]
    cost = total_cost(*costs)
    cost = round(cost, 8) if cost is not None else None
    first_state = passes[0].state
    crashed = any(one.status == "error" for one in passes)
    return {
        "schema": SCHEMA,
        "task": task.name,
        "trial": trial,
        "category": task.category,
        "format": task.format,
        "passed": final.passed,
        "status": "passed" if final.passed else ("error" if crashed else "failed"),
        "tests_passed": final.tests_passed,
        "tests_total": final.tests_total,
        "timed_out": final.timed_out,
        "wall_s": round(sum(one.wall_s for one in passes), 3),
        "grade_s": round(sum(g.duration_s for _, g in tries), 3),
        "tokens": tokens,
        "cost_usd": cost,
        "agents": agents,
        "run_status": last_pass.status,
        "error": next((one.error for one in reversed(passes) if one.error), None),
        "change_type": first_state.change_type.to_json() if first_state else None,
        "warnings": sorted({w for one in passes if one.state for w in one.state.warnings}),
        "tries": [
            {
                "run_id": one.run_id,
                "status": one.status,
                "error": one.error,
                "commit": one.commit,
                "wall_s": round(one.wall_s, 3),
                "passed": g.passed,
                "tests_passed": g.tests_passed,
                "tests_total": g.tests_total,
            }
            for one, g in tries
        ],
        "grade": final.to_json(),
        "workspace": str(kept) if kept else None,
        "started_at": iso(started),
        "ended_at": iso(utc_now()),
    }
