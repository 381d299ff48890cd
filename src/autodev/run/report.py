"""Reports from metric records: per agent, per run, and across runs.

Pure functions of the records (and the run's pipeline), so every figure can be checked against the
records it came from: the run totals are sums of the agent records, which are sums of the calls.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from autodev.core.records import AgentRecord, CallRecord, MetricRecord, TimerRecord, of_kind
from autodev.core.redact import redact
from autodev.models.pricing import total_cost
from autodev.run.gate.summary import GATE_LANE, GateSection, gate_seconds, gate_section, gate_spans, with_gate
from autodev.run.state import RunState

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
P95_MIN_SAMPLES = 10
SLOW_FACTOR = 1.5


@dataclass
class AgentRow:
    agent: str
    status: str
    tier: str | None = None
    model: str | None = None
    skip_reason: str | None = None
    runs: int = 0
    duration_s: float = 0.0
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = 0.0
    tool_calls: dict[str, int] = field(default_factory=dict)
    peak_context: int = 0
    handoff_tokens: int = 0
    started_at: str | None = None
    ended_at: str | None = None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def agent_rows(records: Iterable[MetricRecord]) -> list[AgentRow]:
    rows: dict[str, AgentRow] = {}
    for record in of_kind(records, AgentRecord):
        row = rows.setdefault(record.agent, AgentRow(record.agent, record.status))
        row.status, row.tier, row.model = record.status, record.tier, record.model or row.model
        if not record.ran:
            row.skip_reason = record.skip_reason
            continue
        row.runs += 1
        row.duration_s += record.duration_s
        row.turns += record.turns
        for key in TOKEN_FIELDS:
            setattr(row, key, getattr(row, key) + getattr(record, key))
        row.cost_usd = total_cost(row.cost_usd, record.cost_usd)
        tools = Counter(row.tool_calls)
        tools.update(record.tool_calls)
        row.tool_calls = dict(tools)
        row.peak_context = max([row.peak_context, *record.context_tokens])
        row.handoff_tokens = record.handoff_tokens
        if row.started_at is None or (record.started_at or "") < row.started_at:
            row.started_at = record.started_at
        if record.ended_at and (row.ended_at is None or record.ended_at > row.ended_at):
            row.ended_at = record.ended_at
    return list(rows.values())


def critical_path(needs: Mapping[str, Iterable[str]], durations: Mapping[str, float]) -> tuple[list[str], float]:
    """The chain of dependent agents with the largest summed duration: a lower bound on wall time."""
    best: dict[str, tuple[float, list[str]]] = {}

    def longest(name: str) -> tuple[float, list[str]]:
        if name not in best:
            options = [longest(dep) for dep in needs.get(name, ()) if dep in needs]
            length, path = max(options, default=(0.0, []))
            best[name] = (length + durations.get(name, 0.0), [*path, name])
        return best[name]

    if not needs:
        return [], 0.0
    length, path = max((longest(name) for name in needs), key=lambda item: item[0])
    return [name for name in path if durations.get(name, 0.0) > 0], length


@dataclass
class RunTotals:
    """The run's sums: of its agent records (which are sums of their calls), and the number of calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = 0.0  # None: some agent's model had no price
    duration_s: float = 0.0  # agent time, summed (more than the wall time when agents overlapped)
    queued_s: float = 0.0  # of that, time calls waited for a provider slot (a one-slot local server)
    turns: int = 0
    tool_calls: dict[str, int] = field(default_factory=dict)
    calls: int = 0


@dataclass
class RunReport:
    run_id: str
    status: str
    request: str
    agents: list[AgentRow]
    totals: RunTotals
    wall_s: float
    overlap: float | None  # agent time (not queueing) / wall: 2.0 = two agents at work at once on average
    critical_path: list[str]  # agents, and the test step (`tests`) when the tests were on it
    critical_path_s: float
    timers: dict[str, float]
    gate: GateSection | None = None  # the test step; None: the run ended before it
    error: str | None = None  # why the run failed (redacted)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_report(state: RunState, records: Sequence[MetricRecord], needs: Mapping[str, Iterable[str]]) -> RunReport:
    order = {name: index for index, name in enumerate(state.agents or needs)}
    rows = sorted(agent_rows(records), key=lambda row: order.get(row.agent, len(order)))
    ran = [row for row in rows if row.runs]
    tool_totals: Counter[str] = Counter()
    for row in rows:
        tool_totals.update(row.tool_calls)
    totals = RunTotals(
        input_tokens=sum(row.input_tokens for row in rows),
        output_tokens=sum(row.output_tokens for row in rows),
        cache_read_tokens=sum(row.cache_read_tokens for row in rows),
        cache_write_tokens=sum(row.cache_write_tokens for row in rows),
        cost_usd=None if any(row.cost_usd is None for row in ran) else sum(row.cost_usd or 0 for row in ran),
        duration_s=sum(row.duration_s for row in rows),
        turns=sum(row.turns for row in rows),
        tool_calls=dict(tool_totals),
        calls=len(of_kind(records, CallRecord)),
        queued_s=sum(call.queued_s or 0.0 for call in of_kind(records, CallRecord)),
    )
    # The test step is part of the run's time: its runs widen the wall and sit on the critical path
    # between the agent they follow and the validation phase.
    gate_runs = gate_spans(records)
    starts = [t for row in ran if (t := _time(row.started_at))] + [
        datetime.fromisoformat(start) for start, _ in gate_runs
    ]
    ends = [t for row in ran if (t := _time(row.ended_at))] + [datetime.fromisoformat(end) for _, end in gate_runs]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    durations = {row.agent: row.duration_s for row in rows}
    graph: Mapping[str, Iterable[str]] = needs
    if gate_runs:
        graph = with_gate(needs, state.gate.after)
        if GATE_LANE in graph:
            durations[GATE_LANE] = gate_seconds(records)
    path, path_s = critical_path(graph, durations)
    timers: dict[str, float] = defaultdict(float)
    for timer in of_kind(records, TimerRecord):
        timers[timer.name] += timer.duration_s
    return RunReport(
        run_id=state.run_id,
        status=state.status,
        request=state.request,
        agents=rows,
        totals=totals,
        wall_s=wall,
        # agents' own time, not their queueing for a provider slot: waiting side by side is not parallel work
        overlap=(max(0.0, totals.duration_s - totals.queued_s) / wall) if wall > 0 else None,
        critical_path=path,
        critical_path_s=path_s,
        timers=dict(timers),
        gate=gate_section(state.gate, records),
        error=redact(state.error) if state.error else None,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


@dataclass
class AgentTrend:
    agent: str
    samples: int
    p50_s: float
    p95_s: float
    last_s: float


def trends(records: Iterable[MetricRecord]) -> list[AgentTrend]:
    """p50 and p95 of each agent's duration across every run in the cross-run cache."""
    by_agent: dict[str, list[float]] = defaultdict(list)
    for record in of_kind(records, AgentRecord):
        if record.status == "done":
            by_agent[record.agent].append(record.duration_s)
    return [
        AgentTrend(agent, len(values), percentile(values, 50), percentile(values, 95), values[-1])
        for agent, values in sorted(by_agent.items())
    ]


def bottlenecks(report: RunReport, history: list[AgentTrend], budgets: Mapping[str, float]) -> list[str]:
    """Agents over their configured time budget, or over 1.5 x their own p95 once there are 10 samples."""
    found = []
    by_agent = {trend.agent: trend for trend in history}
    for row in report.agents:
        if not row.runs:
            continue
        budget = budgets.get(row.agent)
        if budget is not None and row.duration_s > budget:
            found.append(f"{row.agent} took {row.duration_s:.1f}s, over its {budget:g}s budget")
        trend = by_agent.get(row.agent)
        if trend and trend.samples >= P95_MIN_SAMPLES and row.duration_s > SLOW_FACTOR * trend.p95_s:
            found.append(f"{row.agent} took {row.duration_s:.1f}s, over 1.5 x its p95 of {trend.p95_s:.1f}s")
    return found


def hints(
    report: RunReport,
    context_budgets: Mapping[str, int],
    stages: list[list[str]],
    history_records: Iterable[MetricRecord] = (),
) -> list[str]:
    """Suggestions drawn from the numbers; each names the figure it rests on."""
    out = []
    for row in report.agents:
        if row.runs and row.tier == "deep" and row.output_tokens / row.runs < 300:
            out.append(
                f"{row.agent} is on the deep tier but wrote {row.output_tokens // row.runs} output tokens "
                "per run: try the balanced tier"
            )
    hits: dict[str, list[bool]] = defaultdict(list)
    for record in of_kind(history_records, AgentRecord):
        if record.status in ("done", "failed"):
            budget = context_budgets.get(record.agent)
            if budget:
                hits[record.agent].append(max(record.context_tokens or [0]) >= 0.9 * budget)
    for agent, flags in hits.items():
        if len(flags) >= 3 and sum(flags) / len(flags) >= 0.5:
            out.append(
                f"{agent} used 90 % or more of its context budget in {sum(flags)} of {len(flags)} runs: "
                "raise context_tokens or give it less to read"
            )
    spans = {row.agent: (row.started_at, row.ended_at) for row in report.agents if row.runs}
    for stage in stages:
        timed = sorted((start, end) for a in stage if a in spans for start, end in [spans[a]] if start and end)
        if len(timed) < 2:
            continue
        overlapped = any(timed[i + 1][0] < max(end for _, end in timed[: i + 1]) for i in range(len(timed) - 1))
        if not overlapped:
            names = " and ".join(a for a in stage if a in spans)
            out.append(
                f"{names} should run in parallel but did not overlap: check max_parallel and max_concurrent_requests"
            )
    return out
