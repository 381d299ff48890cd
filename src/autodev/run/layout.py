"""Finding runs on disk: `<repo>/.autodev/runs/<run_id>/` holds state.json and metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autodev.core.errors import UserError


def runs_dir(repo: Path) -> Path:
    return repo / ".autodev" / "runs"


def load_state(run_dir: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{run_dir}: cannot read state.json: {exc}") from exc
    return data


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
