"""`.autodev/`, autodev's own directory in the repository, must be a plain directory inside it.

A repository is data that anyone can commit: a committed `.autodev` symlink (or a symlinked
`.autodev/runs`, `worktrees`, `cache`, `config.toml`, `agents`, `skills`) would put runs, worktrees and
the cache somewhere outside the repository, or make the configuration and agents autodev reads come
from there. `gitops.find_repo`, which every command starts with, refuses such a repository in one line
(exit 2) before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from autodev.core.errors import UserError

# What autodev keeps under `.autodev/`: a committed symlink at any of these would put runs, worktrees,
# the cache, or the configuration and agents it reads, somewhere outside the repository.
AUTODEV_ENTRIES = ("runs", "worktrees", "cache", "config.toml", "agents", "skills")


def check_autodev_dir(repo: Path) -> None:
    """Refuse a `.autodev` that is not a plain directory inside `repo` (a symlink, a file), or whose
    runs/worktrees/cache/config/agents/skills entry is a symlink: one line, before anything is written."""
    base = repo / ".autodev"
    hint = "remove it (or replace it with a plain directory) and try again; autodev creates .autodev itself"
    if base.is_symlink():
        raise UserError(f"{base} is a symlink; autodev keeps runs and worktrees only inside the repository", hint=hint)
    if base.exists() and not base.is_dir():
        raise UserError(f"{base} is not a directory; autodev keeps its runs and worktrees there", hint=hint)
    for name in AUTODEV_ENTRIES:
        entry = base / name
        if entry.is_symlink():
            raise UserError(f"{entry} is a symlink; autodev keeps .autodev inside the repository", hint=hint)
