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
from autodev.run.selection.after_plan import narrow_after_plan
from autodev.run.selection.overrides import change_authors
from autodev.run.selection.repo import repo_lookup


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
