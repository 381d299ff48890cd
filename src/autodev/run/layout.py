"""Finding runs on disk: `<repo>/.autodev/runs/<run_id>/` holds state.json and metrics.jsonl.

`load_state` is the one reader of a run's state.json (docs/state.md) for everything that looks at runs
from outside: report, status, clean, resume, batch and eval all get a typed `RunState` from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from autodev.core.errors import UserError
from autodev.run.state import RunState


def runs_dir(repo: Path) -> Path:
    return repo / ".autodev" / "runs"


def load_state(run_dir: Path) -> RunState:
    """The run's state; a file that cannot be read, or is not a run's state, is the user's error (exit 2)."""
    path = run_dir / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{run_dir}: cannot read state.json: {exc}") from exc
    try:
        return RunState.from_json(data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise UserError(f"{path} is not a run's state: {exc}") from exc


def list_runs(repo: Path) -> list[Path]:
    """Run directories, oldest first (run ids start with their UTC creation time)."""
    base = runs_dir(repo)
    if not base.is_dir():
        return []
    return sorted(path for path in base.iterdir() if (path / "state.json").is_file())


def find_run(repo: Path, run_id: str | None) -> Path:
    runs = list_runs(repo)
    if not runs:
        raise UserError(f"no runs in {runs_dir(repo)}", hint='start one with autodev run "..." (or autodev demo)')
    if run_id is None:
        return runs[-1]
    matches = [path for path in runs if path.name == run_id] or [p for p in runs if p.name.startswith(run_id)]
    if len(matches) != 1:
        known = ", ".join(path.name for path in runs[-5:])
        problem = "is ambiguous" if matches else "not found"
        raise UserError(f"run {run_id!r} {problem}", hint=f"recent runs: {known}")
    return matches[0]
