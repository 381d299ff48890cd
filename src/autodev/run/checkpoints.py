"""Checkpoints and reopening: how a run survives being killed at any point.

After every agent that may write finishes, its changes are committed on the run's branch as a
checkpoint, and state.json records the commit in the same save that marks the agent done. So the
state on disk and the branch always agree up to the newest checkpoint: anything after it belongs to
an agent that did not finish, and `reopen` puts the worktree back to that checkpoint (keeping the
discarded partial work as a patch in the run directory, so even a half-finished edit is never lost)
before the resumed run restarts that agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autodev.core import gitops
from autodev.core.locks import repo_lock
from autodev.core.records import AgentRecord, CallRecord, MetricRecord
from autodev.core.redact import redact
from autodev.run.publish.commit_message import result_message
from autodev.run.state import DiffStat, RunState

RESTARTED = ("running", "failed", "cancelled")  # agent statuses a resume runs again


def checkpoint_message(run_id: str, agent: str, run: int) -> str:
    """Commit messages leave the run (a pushed branch), so they go through redaction like every outward text."""
    return redact(f"autodev checkpoint: {agent} (run {run})\n\nautodev run {run_id}")


@dataclass
class Reopened:
    """What `reopen` did, for the run's warnings and the user."""

    restarted: list[str] = field(default_factory=list)
    saved_patch: Path | None = None
    recreated_worktree: bool = False
    removed_index_lock: bool = False


def reopen(state: RunState, run_dir: Path, *, use_worktree: bool) -> Reopened:
    """Make a stopped run's state and worktree ready to go on from its newest checkpoint."""
    done = Reopened()
    for stale in run_dir.glob(".state.json.*"):  # a temp file of an atomic write cut short
        stale.unlink(missing_ok=True)
    if use_worktree:
        repo, worktree = Path(state.repo), Path(state.worktree)
        target = state.checkpoint or state.base_commit
        if not worktree.is_dir():
            with repo_lock(gitops.common_dir(repo)):
                gitops.restore_worktree(repo, worktree, state.branch, target)
            done.recreated_worktree = True
        done.removed_index_lock = gitops.remove_stale_index_lock(worktree)
        done.saved_patch = gitops.save_uncommitted(worktree, run_dir / f"interrupted-{state.resumes + 1}.patch")
        gitops.reset_to(worktree, target)
    for name, agent in state.agents.items():
        if agent.status in RESTARTED:
            agent.reset_for_rerun()
            done.restarted.append(name)
    state.status, state.error = "running", None
    state.resumes += 1
    return done


def commit_result(state: RunState, worktree: Path) -> None:
    """Done: the checkpoints become one commit, its message built from the run's handoffs
    (`run.publish.commit_message`). Otherwise the branch keeps its checkpoints, to resume from.

    `state.commit` and `state.diff` say what the run leaves; a git failure fails the run, saying why.
    """
    try:
        if state.status == "done":
            state.commit = gitops.squash(worktree, state.base_commit, result_message(state))  # redacted whole
        else:
            state.commit = state.checkpoint
        if state.commit:
            summary = gitops.diff_summary(worktree, state.base_commit, state.commit)
            state.diff = DiffStat(summary.files, summary.insertions, summary.deletions, summary.stat)
    except gitops.GitError as exc:
        state.error = (state.error + "; " if state.error else "") + f"could not commit the result: {exc}"
        state.status = "failed"


def cut_off_calls(records: Iterable[MetricRecord], agents: Iterable[str]) -> dict[str, list[CallRecord]]:
    """The call records of each agent's run that was cut off: those after its last agent record.

    They were paid for, so a resumed run accounts for them (an agent record with status `interrupted`)
    instead of letting reports and the run's cost forget them.
    """
    wanted = set(agents)
    pending: dict[str, list[CallRecord]] = {name: [] for name in wanted}
    for record in records:
        if isinstance(record, AgentRecord) and record.agent in wanted:
            pending[record.agent] = []
        elif isinstance(record, CallRecord) and record.agent in wanted:
            pending[record.agent].append(record)
    return {name: calls for name, calls in pending.items() if calls}
