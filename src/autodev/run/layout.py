"""Finding runs on disk: `<repo>/.autodev/runs/<run_id>/` holds state.json and metrics.jsonl."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.core.clock import utc_now
from autodev.core.errors import UserError


@dataclass(frozen=True)
class RunPaths:
    """Where one run keeps its files (a Temporal step puts them in its own scratch directory)."""

    run_dir: Path
    worktree: Path
    state_file: Path
    metrics_file: Path
    cache_file: Path
    sessions: Path

    @classmethod
    def for_run(cls, repo: Path, run_id: str) -> RunPaths:
        base = repo / ".autodev"
        run_dir = base / "runs" / run_id
        return cls(
            run_dir,
            base / "worktrees" / run_id,
            run_dir / "state.json",
            run_dir / "metrics.jsonl",
            base / "cache" / "performance_metrics.jsonl",
            run_dir / "sessions",
        )

    @classmethod
    def scratch(cls, run_dir: Path, worktree: Path) -> RunPaths:
        """A step of a run driven elsewhere: everything under `run_dir`, the cache included."""
        return cls(
            run_dir,
            worktree,
            run_dir / "state.json",
            run_dir / "metrics.jsonl",
            run_dir / "cache.jsonl",
            run_dir / "sessions",
        )


def new_run_id() -> str:
    return f"{utc_now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


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
