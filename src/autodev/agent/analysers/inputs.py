"""Build an `AnalysisInput` from a worktree: what changed since the base commit, and the diff.

Everything is staged first (`git add -A`, as `gitops.diff_against` does), so new untracked files count
as changes. Paths are read NUL-separated, so unusual file names survive.
"""

from __future__ import annotations

from pathlib import Path

from autodev.agent.analysers.base import AnalysisInput, ChangedFile
from autodev.core.gitops import git, stage_all
from autodev.sandbox.jail import Jail

DIFF_FLAGS = ["--cached", "-M", "--no-ext-diff", "--no-textconv"]


def _name_status(worktree: Path, base: str) -> list[ChangedFile]:
    tokens = git(["diff", *DIFF_FLAGS, "--name-status", "-z", base], worktree).stdout.split("\0")
    files: list[ChangedFile] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        status = tokens[i]
        letter = status[0]
        if letter in "RC":
            files.append(ChangedFile(tokens[i + 2], letter, old_path=tokens[i + 1]))
            i += 3
        else:
            files.append(ChangedFile(tokens[i + 1], letter))
            i += 2
    return files


def _numstat(worktree: Path, base: str) -> dict[str, tuple[int | None, int | None]]:
    tokens = git(["diff", *DIFF_FLAGS, "--numstat", "-z", base], worktree).stdout.split("\0")
    counts: dict[str, tuple[int | None, int | None]] = {}
    i = 0
    while i < len(tokens) and tokens[i]:
        added, deleted, path = tokens[i].split("\t", 2)
        if path:
            i += 1
        else:  # a rename: "added\tdeleted\t" NUL old NUL new
            path = tokens[i + 2]
            i += 3
        counts[path] = (int(added) if added.isdigit() else None, int(deleted) if deleted.isdigit() else None)
    return counts


def analysis_input(
    worktree: Path, base: str, tests: str | None = None, jail: Jail | None = None, tests_at: str | None = None
) -> AnalysisInput:
    """The change in `worktree` relative to commit `base`, staged so untracked files are included.

    `tests_at`: the commit the tests stood at when the implementer started (the tamper analyser's reference).
    """
    stage_all(worktree)
    counts = _numstat(worktree, base)
    changed = tuple(
        ChangedFile(f.path, f.status, f.old_path, *counts.get(f.path, (None, None)))
        for f in _name_status(worktree, base)
    )
    diff = git(["-c", "core.quotePath=false", "diff", *DIFF_FLAGS, "--no-color", "--unified=3", base], worktree).stdout
    return AnalysisInput(worktree, base, changed, diff, tests=tests, jail=jail, tests_at=tests_at)
