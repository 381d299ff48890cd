"""The test step as reports show it: its section in `autodev report`, its lane, its place on the critical path.

The gate is not an agent, so it has no agent record: its runs are the `test_gate` timer records in
metrics.jsonl and its result is state.json's `gate`. Reading both here lets `autodev report`, the
timeline and the critical path treat it as the step it is — an 85 s test run between the implementer
and the validation phase is 85 s of the run, not an empty gap.

Every string in a section is redacted (`autodev.core.redact`): a test name or a command line can carry
a secret as easily as any other output, and the section goes to a terminal or a JSON consumer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from autodev.core.clock import iso
from autodev.core.records import MetricRecord, TimerRecord, of_kind
from autodev.core.redact import redact
from autodev.run.sections import Gate

GATE_LANE = "tests"  # the step's name wherever agents are listed: timeline lane, critical path, progress row
GATE_TIMER = "test_gate"  # the `PerformanceTimer` around each run of the tests (`run.gate.step`)


@dataclass(frozen=True)
class GateCounts:
    """The runner's own counts of the last run (None: the runner did not report that figure)."""

    runner: str
    passed: int | None
    failed: int | None
    errors: int | None
    skipped: int | None
    total: int | None

    @classmethod
    def of(cls, tests: Mapping[str, Any] | None) -> GateCounts | None:
        """From state.json's `gate.tests` (or a gate event's `tests`); None when the runner gave no counts."""
        if not tests:
            return None
        figures = {name: tests.get(name) for name in ("passed", "failed", "errors", "skipped", "total")}
        return cls(runner=redact(str(tests.get("runner") or "unknown")), **figures)

    def describe(self) -> str:
        figures = [(self.passed, "passed"), (self.failed, "failed"), (self.errors, "errors"), (self.skipped, "skipped")]
        shown = [f"{count} {label}" for count, label in figures if count is not None]
        if self.total is not None:
            shown.append(f"{self.total} in all")
        return f"{', '.join(shown) or 'no counts'} ({self.runner})"


@dataclass(frozen=True)
class GateSection:
    """The test step of one run, as `autodev report` shows it (text and `--json`'s `gate`).

    One record so a new line of the section (the base commit's results, once the gate keeps a
    baseline) is one more field here and one more line where it is printed.
    """

    status: str | None  # passed | failed | skipped; None: the run ended before its gate
    reason: str | None  # why it was skipped
    command: str | None  # the command as run (the last run's), joined with spaces
    environment: str | None  # which interpreter or environment ran the tests; None: not recorded
    runs: int  # how many times the tests ran
    exit_code: int | None  # the last run's
    duration_s: float  # all runs together (their `test_gate` timers)
    last_duration_s: float | None  # the last run's
    counts: GateCounts | None  # the last run's, when the runner's output could be read
    failing: list[str] = field(default_factory=list)  # the last run's failing tests (at most 20)
    after: str | None = None  # the agent the tests ran after


def gate_spans(records: Iterable[MetricRecord]) -> list[tuple[str, str]]:
    """(started_at, ended_at) of each run of the tests, in ISO form like the agent records' spans."""
    spans = []
    for timer in of_kind(records, TimerRecord):
        if timer.name == GATE_TIMER:
            started = datetime.fromisoformat(timer.started_at)
            spans.append((timer.started_at, iso(started + timedelta(seconds=timer.duration_s))))
    return spans


def gate_seconds(records: Iterable[MetricRecord]) -> float:
    """How long the tests ran in all, over every run."""
    return sum(timer.duration_s for timer in of_kind(records, TimerRecord) if timer.name == GATE_TIMER)


def gate_section(gate: Gate, records: Iterable[MetricRecord]) -> GateSection | None:
    """The section for a run's `gate` and its records; None when the run never reached its gate."""
    records = list(records)
    if gate.status is None and not gate_spans(records):
        return None
    tests = gate.tests
    return GateSection(
        status=gate.status,
        reason=redact(gate.reason) if gate.reason else None,
        command=redact(" ".join(gate.command)) if gate.command else None,
        environment=redact(gate.environment) if gate.environment else None,
        runs=gate.runs or 0,
        exit_code=gate.exit_code,
        duration_s=gate_seconds(records),
        last_duration_s=gate.duration_s,
        counts=GateCounts.of(tests.to_json() if tests is not None else None),
        failing=[redact(name) for name in (tests.failing if tests is not None else [])],
        after=gate.after,
    )


def with_gate(needs: Mapping[str, Iterable[str]], after: str | None) -> dict[str, list[str]]:
    """The pipeline's `needs` with the test step in it: it needs the agent it runs after, and every agent
    of the validation phase (neither that agent nor one it needs) waits for it. Unchanged when the
    gate's place is unknown (no gate, or a run recorded before `gate.after` was)."""
    graph = {name: list(deps) for name, deps in needs.items()}
    if after is None or after not in graph or GATE_LANE in graph:
        return graph
    build, stack = {after}, list(graph[after])
    while stack:
        current = stack.pop()
        if current not in build:
            build.add(current)
            stack.extend(graph.get(current, ()))
    for name, deps in graph.items():
        if name not in build:
            deps.append(GATE_LANE)
    graph[GATE_LANE] = [after]
    return graph
