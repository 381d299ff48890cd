"""`.autodev/`, autodev's own directory in the repository, must be a plain directory inside it.

A repository is data that anyone can commit: a committed `.autodev` symlink (or a symlink inside it:
`.autodev/runs`, `worktrees`, `cache/performance_metrics.jsonl`, `config.toml`, `agents/x.md`) would put
runs, worktrees and the cache somewhere outside the repository, append to a file there, or make the
configuration and agents autodev reads come from there. `gitops.find_repo`, which every command starts
with, refuses such a repository in one line (exit 2) before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from autodev.core.errors import UserError


def check_autodev_dir(repo: Path) -> None:
    """Refuse a `.autodev` that is not a plain directory inside `repo` (a symlink, a file), or that holds a
    symlink anywhere (a run's checkout under `worktrees/` aside): one line, before anything is written."""
    base = repo / ".autodev"
    hint = "remove it (or replace it with a plain directory) and try again; autodev creates .autodev itself"
    if base.is_symlink():
        raise UserError(f"{base} is a symlink; autodev keeps runs and worktrees only inside the repository", hint=hint)
    if base.exists() and not base.is_dir():
        raise UserError(f"{base} is not a directory; autodev keeps its runs and worktrees there", hint=hint)
    found = next(_symlinks_under(base), None) if base.is_dir() else None
    if found is not None:
        raise UserError(f"{found} is a symlink; autodev keeps .autodev inside the repository", hint=hint)


def _symlinks_under(base: Path) -> Iterator[Path]:
    """Symlinks in `base` (a symlink to a file appended to, like the cache, would write outside). A run's
    worktree is the project's own checkout, whose symlinks are its business: only the worktree itself
    is checked there."""
    for directory, dirnames, filenames in os.walk(base):  # never follows a symlinked directory
        here = Path(directory)
        for name in sorted([*dirnames, *filenames]):
            if (here / name).is_symlink():
                yield here / name
        if here == base / "worktrees":
            dirnames.clear()
