"""Where each local run is: its stage from state.json, and whether a process is working on it now.

A run whose state says `running` but whose lock nobody holds was killed: it is shown as `stopped`,
resumable with `autodev resume`. Rows have the same shape as the Temporal engine's query answers (which
may lack `branch`, `cost_usd`, `created_at` and `updated_at`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autodev.core.locks import holder, run_lock_path
from autodev.run.layout import find_run, list_runs, load_state
from autodev.run.state import RunState

RECENT = 20


def stage_of(state: RunState) -> str:
    step, cycle = state.progress.step, state.progress.cycle
    return f"{step} {cycle + 1}" if step in ("validate", "remediate") and cycle else step


def local_status(repo: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    run_dirs = [find_run(repo, run_id)] if run_id else list_runs(repo)[-RECENT:]
    rows = []
    for run_dir in run_dirs:
        state = load_state(run_dir)
        status: str = state.status
        live = holder(run_lock_path(run_dir)) is not None
        if status == "running" and not live:
            status = "stopped"  # killed: nobody holds its lock
        rows.append(
            {
                "run_id": state.run_id or run_dir.name,
                "request": state.request,
                "stage": stage_of(state) if status not in ("done",) else "finished",
                "status": status,
                "live": live,
                "agents": {name: agent.status for name, agent in state.agents.items()},
                "branch": state.branch or None,
                "cost_usd": state.cost_usd,
                "created_at": state.created_at,
                "updated_at": state.updated_at,
            }
        )
    return rows
