"""A run's plan as data: what `autodev plan --json` prints and what the MCP server answers.

One function for both, so a client of the server sees exactly what the command line shows.
"""

from __future__ import annotations

from typing import Any

from autodev.run.confinement import jail_line
from autodev.run.estimate import CostEstimate
from autodev.run.plan import RunPlan
from autodev.run.selection.decide import gate_outlook


def plan_json(plan: RunPlan, cost: CostEstimate) -> dict[str, Any]:
    """What a run would do: the JSON of `autodev plan --json` and of the MCP tool `autodev_plan`."""
    return {
        "request": plan.request,
        "repo": str(plan.repo),
        "provider": plan.settings.provider,
        "change_type": plan.selection.change_type,
        "reasons": list(plan.selection.reasons),
        "selection": {
            "mode": plan.selection.mode,
            "skips": dict(plan.selection.skips),
            "after_plan": plan.after_plan_outlook(),
        },
        "max_parallel": plan.settings.max_parallel,
        "stages": [
            [
                {
                    "agent": name,
                    "runs": plan.runs(name),
                    "skip_reason": plan.selection.skips.get(name),
                    "tier": plan.models[name].tier,
                    "model": plan.models[name].model_id,
                    "needs": list(plan.pipeline.node(name).needs),
                }
                for name in stage
            ]
            for stage in plan.stages()
        ],
        "test_gate": {
            "after": plan.pipeline.gate_after,
            "command": plan.test_command,
            "may_skip": gate_outlook(plan.selection),
            "environment": None
            if plan.tests is None
            else {
                "source": plan.tests.source,
                "reason": plan.tests.reason,
                "path": str(plan.tests.environment) if plan.tests.environment else None,
            },
        },
        "sandbox": {
            "mode": plan.settings.sandbox.mode,
            "network": plan.settings.sandbox.network,
            "env": list(plan.settings.sandbox.env),
            "jail": jail_line(plan.settings),
        },
        "cost_estimate": {**cost.to_json(), "max_cost_usd": plan.settings.max_cost_usd},
        "ignored": plan.settings.ignored_notes(),
    }
