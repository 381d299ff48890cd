"""After the planner: the run narrows to the class of the files its plan changes (`selection.after_plan`).

Called by the agent step when PLAN_AGENT finishes, so both engines do it where the planner ran (the
Temporal activity carries the skips back to the workflow in its result). The skipped agents are
recorded like the request's own skips, and `change_type.planned` keeps the class, so the diff
re-check compares the diff with it and a change that reaches code brings them back.
"""

from __future__ import annotations

from autodev.run.events import RunEvent
from autodev.run.plan import RunPlan
from autodev.run.recorder import Recorder
from autodev.run.selection.after_plan import NOT_NEEDED, narrow_after_plan
from autodev.run.selection.overrides import change_authors
from autodev.run.selection.repo import repo_lookup


def plan_edited(plan: RunPlan, recorder: Recorder, handoff: str) -> None:
    """The user edited the plan at its approval (`--approve plan`): what the planner's own plan narrowed
    away is back, and the edited plan narrows again if it qualifies. An agent brought back after its
    turn in the build phase runs before the test gate (`Driver.brought_back`)."""
    state = recorder.store.state
    if state.change_type.planned is not None:
        for agent in state.agents.values():
            if agent.status == "skipped" and (agent.reason or "").startswith(NOT_NEEDED):
                agent.unskip("the plan was edited at its approval")
        state.change_type.planned = None
        recorder.note(None, "plan edited at its approval: the selection after the plan is made again")
    select_after_plan(plan, recorder, handoff)
    recorder.save()


def select_after_plan(plan: RunPlan, recorder: Recorder, handoff: str) -> None:
    state = recorder.store.state
    pending = [name for name, agent in state.agents.items() if agent.status == "pending"]
    lookup = repo_lookup(plan.repo, plan.base_commit)
    planned = narrow_after_plan(plan.selection, handoff, lookup, pending, change_authors(plan.pipeline))
    if planned is None:
        return
    state.change_type.planned = planned.change_type
    state.change_type.reasons += [reason for reason in planned.reasons if reason not in state.change_type.reasons]
    for name, why in planned.skips.items():
        resolved = plan.models[name]
        recorder.skipped(name, why, resolved.tier, resolved.model_id)
    recorder.report(RunEvent("note", None, planned.reasons[0]))
    recorder.save()
