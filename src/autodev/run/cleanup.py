"""`autodev clean`: remove what runs leave behind, without ever losing a result.

A done run's branch is its deliverable, so it stays unless `--purge` is given; a worktree is only a
working copy of that branch and goes. A failed run's branch keeps its checkpoints (so the run can
still be resumed: `autodev resume` brings the worktree back) and goes only when it holds no commit of
its own. Uncommitted work in a worktree that is removed is first saved as a patch in the run
directory. A live run (its process holds the run's lock) is never touched; a run that was killed or
interrupted is resumable, so it is kept unless `--force`.

A failed run that changed nothing does not wait for `autodev clean`: `drop_if_unchanged` removes its
worktree and branch as it ends.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.locks import holder, repo_lock, run_lock_path
from autodev.run.layout import list_runs, load_state
from autodev.run.state import RunState


@dataclass
class CleanResult:
    worktrees: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    run_dirs: list[str] = field(default_factory=list)
    patches: list[str] = field(default_factory=list)  # uncommitted work saved before its worktree went
    kept: list[str] = field(default_factory=list)  # "run_id: why"


def _branch_has_commits(repo: Path, branch: str, base: str) -> bool:
    result = gitops.git(["rev-list", "--count", f"{base}..{branch}"], repo, check=False)
    return result.returncode == 0 and result.stdout.strip() not in ("", "0")


def clean(repo: Path, run_ids: list[str] | None = None, *, purge: bool = False, force: bool = False) -> CleanResult:
    result = CleanResult()
    known = {run_dir.name for run_dir in list_runs(repo)}
    unknown = [run_id for run_id in run_ids or () if run_id not in known]
    if unknown:
        recent = ", ".join(sorted(known)[-5:]) or "none"
        raise UserError(f"run {unknown[0]!r} not found", hint=f"recent runs: {recent}")
    with repo_lock(gitops.common_dir(repo)):
        for run_dir in list_runs(repo):
            if not run_ids or run_dir.name in run_ids:
                _clean_run(repo, run_dir, result, purge=purge, force=force)
        gitops.git(["worktree", "prune"], repo, check=False)
    return result


def _clean_run(repo: Path, run_dir: Path, result: CleanResult, *, purge: bool, force: bool) -> None:
    state = load_state(run_dir)
    run_id = state.run_id or run_dir.name
    pid = holder(run_lock_path(run_dir))
    if pid is not None:
        result.kept.append(f"{run_id}: still running (process {pid})" if pid > 0 else f"{run_id}: still running")
        return
    status = state.status
    if status in ("running", "interrupted", "budget", "awaiting-approval") and not force:
        result.kept.append(
            f"{run_id}: still marked {status}, resumable with autodev resume {run_id} (use --force to clean it)"
        )
        return
    worktree = Path(state.worktree)
    if state.branch and worktree.is_dir() and worktree != repo:
        try:
            saved = gitops.save_uncommitted(worktree, run_dir / "uncommitted.patch")
        except gitops.GitError:
            saved = None
        if saved is not None:
            result.patches.append(str(saved))
        gitops.git(["worktree", "remove", "--force", str(worktree)], repo, check=False)
        if worktree.exists():
            shutil.rmtree(worktree, ignore_errors=True)
        result.worktrees.append(str(worktree))
    branch = state.branch
    if branch and gitops.branch_exists(repo, branch):
        has_result = _branch_has_commits(repo, branch, state.base_commit or "HEAD")
        if purge or not has_result:
            gitops.git(["branch", "-D", branch], repo, check=False)
            result.branches.append(branch)
        else:
            what = "the run's commit" if status == "done" else "the run's checkpoints"
            result.kept.append(f"{run_id}: branch {branch} holds {what} (use --purge to delete it)")
    if purge:
        shutil.rmtree(run_dir, ignore_errors=True)
        result.run_dirs.append(str(run_dir))


def drop_if_unchanged(state: RunState) -> bool:
    """A failed run that changed nothing leaves nothing to look at: its worktree and branch go (True).

    A run with a checkpoint or uncommitted work in its worktree keeps both, for the user to inspect
    and for `autodev resume`; one without them can still be resumed, which makes them again from
    the base commit.
    """
    repo, worktree = Path(state.repo), Path(state.worktree)
    if state.status != "failed" or not state.branch or state.commit or worktree == repo or not worktree.is_dir():
        return False
    try:
        if gitops.dirty_paths(worktree) or _branch_has_commits(repo, state.branch, state.base_commit):
            return False
        with repo_lock(gitops.common_dir(repo)):
            gitops.git(["worktree", "remove", "--force", str(worktree)], repo)
            gitops.git(["branch", "-D", state.branch], repo)
    except gitops.GitError:
        return False
    return True
