"""`autodev run --continue RUN_ID "also handle X"`: a follow-up change on a done run's branch.

The follow-up is a run of its own (its own id, run directory, state and metrics, so it resumes, reports
and undoes like any other), but it works on the earlier run's branch, starting from the branch's tip:
done, its checkpoints are squashed into one more commit on `autodev/<earlier run_id>`.

What it reuses: the research. The read-only agents that start the pipeline (those that need no other
agent: researcher-local and researcher-web in the built-in pipeline) are not run again; their handoffs
from the earlier run are carried over as done (`reason`: reused from run ...). The planner runs again,
for the follow-up, with the earlier request and the earlier plan in front of it (they open the
follow-up's request), so the new plan builds on the old one instead of repeating it.

The earlier run's worktree is removed first (its uncommitted leftovers saved as a patch in its run
directory, as `autodev clean` does): a branch is checked out in one worktree at a time.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.locks import holder, repo_lock, run_lock_path
from autodev.run.layout import find_run, load_state
from autodev.run.plan import RunPlan
from autodev.run.state import RunState
from autodev.run.undo import CONTINUES
from autodev.tools import names as tool_names


@dataclass(frozen=True)
class FollowUp:
    previous: RunState
    tip: str  # the branch's commit the follow-up starts from

    @property
    def branch(self) -> str:
        return self.previous.branch

    def reused(self, plan: RunPlan) -> tuple[str, ...]:
        """The research: read-only agents needing no other agent, done in the earlier run, not skipped now."""
        found = []
        for node in plan.pipeline.nodes:
            earlier = self.previous.agents.get(node.agent)
            spec = plan.specs.get(node.agent)
            if node.needs or earlier is None or earlier.status != "done" or not earlier.handoff or spec is None:
                continue
            if set(spec.offered_tools()) & (tool_names.WRITING_TOOLS | {"Bash"}):
                continue
            if node.agent not in plan.selection.skips:
                found.append(node.agent)
        return tuple(found)

    def carry_over(self, state: RunState, plan: RunPlan) -> None:
        """Mark the reused agents done with the earlier run's handoffs, before anything runs."""
        for name in self.reused(plan):
            earlier, agent = self.previous.agents[name], state.agents[name]
            agent.status, agent.handoff = "done", earlier.handoff
            agent.model, agent.tier = earlier.model, earlier.tier
            agent.reason = f"reused from run {self.previous.run_id}"
        state.options[CONTINUES] = self.previous.run_id

    def open_worktree(self, repo: Path, worktree: Path) -> None:
        """The earlier run's worktree goes (leftovers saved); the follow-up's is made on the branch. Repo lock held."""
        old = Path(self.previous.worktree)
        if old.is_dir() and old != repo:
            run_dir = find_run(repo, self.previous.run_id)
            with contextlib.suppress(gitops.GitError):
                gitops.save_uncommitted(old, run_dir / "uncommitted.patch")
            gitops.git(["worktree", "remove", "--force", str(old)], repo, check=False)
            shutil.rmtree(old, ignore_errors=True)
        gitops.restore_worktree(repo, worktree, self.branch, self.tip)


def follow_up_request(text: str, previous: RunState) -> str:
    """The follow-up's request: what to do now, then what is already on the branch and the plan it followed."""
    plan = previous.agents.get("planner")
    earlier_plan = f"\n\nThe plan that change followed:\n{plan.handoff.strip()}" if plan and plan.handoff else ""
    return (
        f"{text.strip()}\n\n"
        f"(A follow-up: run {previous.run_id} already made a change on this branch, committed, for the request: "
        f'"{previous.request.strip()}". Build on it; do not redo it.){earlier_plan}'
    )


def load_previous(run_id: str, repo_path: Path) -> FollowUp:
    """The done run to continue, or a one-line error saying why it can't be."""
    repo = gitops.find_repo(repo_path)
    run_dir = find_run(repo, run_id)
    state = load_state(run_dir)
    pid = holder(run_lock_path(run_dir))
    if pid is not None:
        raise UserError(f"run {state.run_id} is still running", hint="wait for it to finish, then continue it")
    if not state.branch:
        raise UserError(f"run {state.run_id} made no branch (an issue draft)", hint="start a new run instead")
    if state.status != "done":
        raise UserError(
            f"run {state.run_id} is {state.status}, not done",
            hint=f"finish it first: autodev resume {state.run_id}",
        )
    with repo_lock(gitops.common_dir(repo)):
        if not gitops.branch_exists(repo, state.branch):
            raise UserError(f"branch {state.branch} of run {state.run_id} no longer exists", hint="start a new run")
        tip = gitops.git(["rev-parse", f"refs/heads/{state.branch}"], repo).stdout.strip()
    return FollowUp(state, tip)
