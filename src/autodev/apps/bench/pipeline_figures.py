"""The figures of one benchmarked run, read from what the orchestrator recorded (metrics and state).

Apart from running the benchmark because these are the definitions a reader checks the numbers against;
they use only the run's own records, never the simulator's view of time.

Definitions:
- bound: the critical path of the run's pipeline over the agents' own measured durations
  (`run.report.critical_path`) plus the serial steps between phases (test gate, analysers),
  which nothing can overlap. efficiency = bound / wall.
- phase speedup: the span of the research agents (first start to last end), and of the validation
  agents, run sequentially, over the same span run in parallel.
- agents at once: the most agent runs whose recorded spans (start to end, as in metrics.jsonl) overlap
  at one moment: 1 when the agents ran one at a time, more when they ran side by side. Unlike the
  times, it does not depend on how fast or busy the machine is.
- overhead per agent: (wall - the time during which a model call, the test gate or the analysers
  were in progress, as a union of intervals) / agents run: wall time not spent waiting on a model or
  the tests. It includes tool execution (real, milliseconds) and orchestration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from autodev.core.records import AgentRecord, CallRecord, MetricRecord, TimerRecord, of_kind
from autodev.engines.local.run import LocalRun
from autodev.models.pricing import total_cost
from autodev.run.report import agent_rows, critical_path

RESEARCH = ("researcher-local", "researcher-web")
VALIDATION = ("reviewer", "security-auditor", "doc-master")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _span(records: list[MetricRecord], names: tuple[str, ...]) -> float:
    rows = [row for row in agent_rows(records) if row.agent in names and row.runs]
    starts = [t for row in rows if (t := _time(row.started_at))]
    ends = [t for row in rows if (t := _time(row.ended_at))]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def agent_spans(records: list[MetricRecord]) -> list[tuple[str, str, str]]:
    """(agent, started_at, ended_at) of every agent run the metrics recorded, in order of start."""
    runs = [r for r in of_kind(records, AgentRecord) if r.ran]
    spans = [(r.agent, r.started_at, r.ended_at) for r in runs if r.started_at and r.ended_at]
    return sorted(spans, key=lambda span: span[1])


def most_at_once(spans: list[tuple[str, str, str]]) -> int:
    """The most spans in progress at one moment; one that ends as another starts does not overlap it."""
    events = sorted(
        [(datetime.fromisoformat(start), 1) for _, start, _ in spans]
        + [(datetime.fromisoformat(end), -1) for _, _, end in spans],
        key=lambda event: (event[0], event[1]),  # an end before a start at the same instant
    )
    most = running = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def _busy(records: list[MetricRecord]) -> float:
    """Seconds during which a model call, a test run (the gate's or an agent's) or the analysers were in
    progress (their union)."""
    intervals: list[tuple[float, float]] = []
    for r in records:
        timed = ("test_gate", "agent_tests", "analysers")
        if isinstance(r, CallRecord) or (isinstance(r, TimerRecord) and r.name in timed):
            started = datetime.fromisoformat(r.started_at)
            intervals.append((started.timestamp(), started.timestamp() + r.duration_s))
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def figures(orchestrator: LocalRun, wall: float) -> dict[str, Any]:
    state = orchestrator.store.state
    records = orchestrator.metrics.written
    pipeline = orchestrator.plan.pipeline
    rows = [row for row in agent_rows(records) if row.runs]
    durations = {row.agent: row.duration_s for row in rows}
    needs = {node.agent: node.needs for node in pipeline.nodes}
    path, path_s = critical_path(needs, durations)
    timers: dict[str, float] = {}
    for timer in of_kind(records, TimerRecord):
        timers[timer.name] = timers.get(timer.name, 0.0) + timer.duration_s
    # The gate and analysers between phases; a test run an agent asked for (RunTests) is inside its span.
    spans = [(a, b) for row in rows if (a := _time(row.started_at)) and (b := _time(row.ended_at))]
    serial = sum(
        r.duration_s
        for r in of_kind(records, TimerRecord)
        if r.name in ("test_gate", "analysers") and not any(a <= t <= b for a, b in spans if (t := _time(r.started_at)))
    )
    calls = of_kind(records, CallRecord)
    model_s: dict[str, float] = {}
    for call in calls:
        model_s[call.agent] = model_s.get(call.agent, 0.0) + call.duration_s
    bound = path_s + serial
    spans_recorded = agent_spans(records)
    costs = [c.cost_usd for c in calls if c.status == "ok"]
    return {
        "status": state.status,
        "error": state.error,
        "wall_s": wall,
        "bound_s": bound,
        "critical_path": path,
        "critical_path_agents_s": path_s,
        "serial_steps_s": serial,
        "efficiency": bound / wall if wall > 0 else None,
        "agent_seconds_sum": sum(durations.values()),
        "agent_spans": [list(span) for span in spans_recorded],
        "most_agents_at_once": most_at_once(spans_recorded),
        "agents_run": len(rows),
        "agents_skipped": sorted(name for name, agent in state.agents.items() if agent.status == "skipped"),
        "request_class": orchestrator.plan.selection.change_type,
        "research_span_s": _span(records, RESEARCH),
        "validation_span_s": _span(records, VALIDATION),
        "overhead_per_agent_s": (wall - _busy(records)) / len(rows) if rows else None,
        "model_seconds": model_s,
        "model_calls": len(calls),
        "model_call_errors_429": 0,
        "input_tokens": sum(c.input_tokens for c in calls),
        "output_tokens": sum(c.output_tokens for c in calls),
        "cost_usd": total_cost(*costs),
        "timers": timers,
    }
