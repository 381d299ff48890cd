"""`autodev undo RUN_ID`: take a run back — its worktree, its branch and its records (the run directory).

The removal itself is `run.cleanup`'s (`clean --purge --force` of that one run), so undo and clean can't
drift apart. What undo adds is the refusals:

- a run whose process is alive (it holds the run's lock) is never touched, `--force` or not: stop it first;
- a run whose branch was pushed (`published` in state.json) is other people's to see: without `--force`
  undo refuses; with it, the local branch and records go and the remote branch stays (undo says how to
  delete it, and never does so itself);
- a run that another run continued (`autodev run --continue`) shares its branch with that one: undo the
  later run first;
- a branch that moved since the run left it (someone committed on it) would lose those commits too:
  without `--force` undo refuses.

A follow-up run (`--continue`) shares the branch of the run it continued, so undoing it does not delete
the branch: the branch goes back to where the follow-up started (`base_commit`), removing only its commit.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.locks import holder, repo_lock, run_lock_path
from autodev.run.cleanup import clean
from autodev.run.layout import find_run, list_runs, load_state
from autodev.run.state import RunState

CONTINUES = "continues"  # state.json options: the run whose branch a follow-up continues


@dataclass
class UndoResult:
    run_id: str
    removed: list[str] = field(default_factory=list)  # what went, for the user
    remote_branch: str | None = None  # a pushed branch left on the remote (--force)


def _followers(repo: Path, state: RunState) -> list[str]:
    """Runs that continued this run's branch (later follow-ups on the same branch)."""
    found = []
    for run_dir in list_runs(repo):
        if run_dir.name == state.run_id:
            continue
        other = load_state(run_dir)
        if other.branch == state.branch and other.created_at > state.created_at:
            found.append(other.run_id)
    return found


def _moved(repo: Path, state: RunState) -> str | None:
    """The branch's tip when it is not where the run left it (someone committed on it since), else None."""
    if not state.branch or not gitops.branch_exists(repo, state.branch):
        return None
    tip = gitops.git(["rev-parse", f"refs/heads/{state.branch}"], repo).stdout.strip()
    left = state.commit or state.checkpoint or state.base_commit
    return tip if tip != left else None


def _check(repo: Path, run_dir: Path, state: RunState, force: bool) -> None:
    pid = holder(run_lock_path(run_dir))
    if pid is not None:
        who = f"process {pid}" if pid > 0 else "another process"
        raise UserError(f"run {state.run_id} is running ({who})", hint="stop it first (Ctrl-C), then undo it")
    followers = _followers(repo, state) if state.branch else []
    if followers:
        raise UserError(
            f"run {followers[-1]} continues run {state.run_id}'s branch {state.branch}",
            hint=f"undo it first: autodev undo {followers[-1]}",
        )
    moved = _moved(repo, state)
    if moved is not None and not force:
        raise UserError(
            f"branch {state.branch} moved since run {state.run_id} left it (now at {moved[:12]})",
            hint="its commits after the run would go too: autodev undo --force does it anyway",
        )
    if state.published is not None and not force:
        raise UserError(
            f"run {state.run_id}'s branch {state.branch} was pushed to {state.published.remote}",
            hint="autodev undo --force removes it here and leaves the remote branch (and any pull request) as it is",
        )


def _rewind(repo: Path, state: RunState, result: UndoResult) -> None:
    """A follow-up's branch goes back to where the follow-up started; the run it continued keeps its commit."""
    worktree = Path(state.worktree)
    with repo_lock(gitops.common_dir(repo)):
        if worktree.is_dir():
            gitops.git(["worktree", "remove", "--force", str(worktree)], repo, check=False)
            result.removed.append(f"worktree {worktree}")
        gitops.git(["worktree", "prune"], repo, check=False)
        if gitops.branch_exists(repo, state.branch):
            gitops.git(["update-ref", f"refs/heads/{state.branch}", state.base_commit], repo)
            result.removed.append(f"its commit on {state.branch} (back at {state.base_commit[:12]})")


def undo(repo_path: Path, run_id: str, *, force: bool = False) -> UndoResult:
    repo = gitops.find_repo(repo_path)
    run_dir = find_run(repo, run_id)
    state = load_state(run_dir)
    _check(repo, run_dir, state, force)
    result = UndoResult(state.run_id)
    if state.published is not None:
        result.remote_branch = f"{state.published.remote} {state.published.branch}"
    if state.options.get(CONTINUES):
        _rewind(repo, state, result)
        shutil.rmtree(run_dir, ignore_errors=True)  # not `clean --purge`: that deletes the shared branch
        result.removed.append(f"run directory {run_dir}")
        return result
    cleaned = clean(repo, [run_dir.name], purge=True, force=True)
    if cleaned.kept:  # the lock was taken between the check and the removal
        raise UserError(f"run {state.run_id} was not removed: {cleaned.kept[0]}")
    result.removed += [f"worktree {path}" for path in cleaned.worktrees]
    result.removed += [f"branch {branch}" for branch in cleaned.branches]
    result.removed += [f"run directory {path}" for path in cleaned.run_dirs]
    return result
