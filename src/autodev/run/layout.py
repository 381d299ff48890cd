"""Finding runs on disk: `<repo>/.autodev/runs/<run_id>/` holds state.json and metrics.jsonl.

`load_state` is the one reader of a run's state.json (docs/state.md) for everything that looks at runs
from outside: report, status, clean, resume, batch and eval all get a typed `RunState` from it.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from autodev.core.clock import utc_now
from autodev.core.errors import UserError
from autodev.run.state import RunState


@dataclass(frozen=True)
class RunPaths:
    """Where one run keeps its files (a Temporal step puts them in its own scratch directory)."""

    run_dir: Path
    worktree: Path
    state_file: Path
    metrics_file: Path
    cache_file: Path
    sessions: Path
    baselines: Path  # the baseline cache: one JSON file per base commit, command and environment

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
            base / "cache" / "baselines",
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
            run_dir / "baselines",
        )


# What `new_run_id` makes, and all a run id given from outside (an MCP client, `run --run-id`) may be:
# one path component, never `.`, `..` or anything with a separator.
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def new_run_id() -> str:
    return f"{utc_now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """`run_id` when it can name a run directory; a `UserError` for `..`, a slash or anything else."""
    if not RUN_ID_PATTERN.fullmatch(run_id):
        raise UserError(
            f"{run_id!r} is not a run id",
            hint="a run id is letters, digits, '-' and '_' (autodev status lists the runs)",
        )
    return run_id


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
