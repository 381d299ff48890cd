"""`autodev clean`: remove what finished runs leave behind, without ever losing a result.

A done run's branch is its deliverable, so it stays unless `--purge` is given; a worktree is only a
working copy of that branch and goes. A failed run's branch goes when it holds no commit of its own.
A run still marked `running` is left alone unless `--force` (it may be live, or waiting for resume).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autodev import gitops
from autodev.profiler.runs import list_runs, load_state


@dataclass
class CleanResult:
    worktrees: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    run_dirs: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # "run_id: why"


def _branch_has_commits(repo: Path, branch: str, base: str) -> bool:
    result = gitops.git(["rev-list", "--count", f"{base}..{branch}"], repo, check=False)
    return result.returncode == 0 and result.stdout.strip() not in ("", "0")


def _branch_exists(repo: Path, branch: str) -> bool:
    return gitops.git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], repo, check=False).returncode == 0


def clean(repo: Path, run_ids: list[str] | None = None, *, purge: bool = False, force: bool = False) -> CleanResult:
    result = CleanResult()
    for run_dir in list_runs(repo):
        if run_ids and run_dir.name not in run_ids:
            continue
        state = load_state(run_dir)
        run_id = str(state.get("run_id", run_dir.name))
        if state.get("status") == "running" and not force:
            result.kept.append(f"{run_id}: still marked running (use --force if it is dead)")
            continue
        worktree = Path(str(state.get("worktree", "")))
        if state.get("branch") and worktree.is_dir() and worktree != repo:
            gitops.git(["worktree", "remove", "--force", str(worktree)], repo, check=False)
            if worktree.exists():
                shutil.rmtree(worktree, ignore_errors=True)
            result.worktrees.append(str(worktree))
        branch = str(state.get("branch") or "")
        if branch and _branch_exists(repo, branch):
            has_result = _branch_has_commits(repo, branch, str(state.get("base_commit", "HEAD")))
            if purge or not has_result:
                gitops.git(["branch", "-D", branch], repo, check=False)
                result.branches.append(branch)
            else:
                result.kept.append(f"{run_id}: branch {branch} holds the run's commit (use --purge to delete it)")
        if purge:
            shutil.rmtree(run_dir, ignore_errors=True)
            result.run_dirs.append(str(run_dir))
    gitops.git(["worktree", "prune"], repo, check=False)
    return result
