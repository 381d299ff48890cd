"""One run's report as data: what `autodev report RUN_ID --json` prints and what the MCP server answers.

`run.report` holds the pure functions of the records; this module reads what they need from disk (the
run's state and metrics, the cross-run cache, the agents' context budgets, the configured time
budgets), so the command and the MCP server build the same report from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.agent.specs import load_agents
from autodev.config.settings import load_settings
from autodev.core.records import MetricRecord, read_metrics
from autodev.run import report as rep
from autodev.run.graph import Node, Pipeline
from autodev.run.graph import stages as graph_stages
from autodev.run.layout import load_state
from autodev.run.state import RunState


@dataclass(frozen=True)
class RunReportView:
    """A run's report with the run's state, its records, and what stands out (bottlenecks, hints)."""

    state: RunState
    records: list[MetricRecord]
    report: rep.RunReport
    bottlenecks: list[str]
    hints: list[str]

    def handoff_budget(self) -> dict[str, Any]:
        """state.json's `handoff_budget` as JSON."""
        return self.state.handoff_budget.to_json()

    def to_json(self, timeline: Path | None = None, page: Path | None = None) -> dict[str, Any]:
        return {
            **self.report.to_json(),
            "handoff_budget": self.handoff_budget(),
            "bottlenecks": self.bottlenecks,
            "hints": self.hints,
            "timeline": str(timeline) if timeline else None,
            "html": str(page) if page else None,
        }


def build_report(root: Path, run_dir: Path) -> RunReportView:
    """The report of the run in `run_dir` of repository `root`."""
    cache = read_metrics(root / ".autodev" / "cache" / "performance_metrics.jsonl")
    state = load_state(run_dir)
    records = read_metrics(run_dir / "metrics.jsonl")
    needs = state.pipeline
    one = rep.run_report(state, records, needs)
    settings = load_settings(root)
    specs = load_agents(root, skip=settings.untrusted_files())
    budgets = {name: spec.context_tokens for name, spec in specs.items()}
    pipeline = Pipeline(tuple(Node(agent, tuple(deps)) for agent, deps in needs.items()))
    # Judged against the other runs: with its own sample in the p95, a slow run would hide itself.
    history = rep.trends(record for record in cache if record.run_id != one.run_id)
    found = rep.bottlenecks(one, history, settings.time_budgets)
    advice = rep.hints(one, budgets, graph_stages(pipeline) if needs else [], cache)
    return RunReportView(state, records, one, found, advice)
