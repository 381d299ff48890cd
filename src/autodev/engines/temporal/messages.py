"""What workflows and activities pass each other: small values and references, never large contents.

Temporal refuses any payload over 2 MB and keeps every payload in the workflow's history, so texts
that can grow (the request, handoffs, session logs, test output, metrics) live in git as artifact
commits on the run's remote (`transport`), and only a `TextRef` travels. Commits travel as SHAs.
Everything here is a plain dataclass the SDK's JSON converter round-trips; no I/O, so the workflow
sandbox imports it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autodev.core.usage import Usage
from autodev.run.driver import Course
from autodev.run.state import AgentState, ChangeType, Checkpoint, Gate, HandoffBudget


@dataclass
class TextRef:
    """A text kept in git: file `path` of commit `commit`, reachable from `ref` on the run's remote."""

    ref: str
    commit: str
    path: str
    size: int  # bytes, for reports: what did not travel in the payload


@dataclass
class FeatureInput:
    """The workflow's input. `title` is the request's first line (for the UI); the request is `request`."""

    run_id: str
    feature_id: str
    title: str
    request: TextRef
    remote: str
    base: str
    options: dict[str, Any]
    repo: str  # the client's repository, for display only: workers use `remote`
    heartbeat_timeout_s: float = 60.0


@dataclass
class RunRef:
    """Where a step works: the run's remote and the commit to check out."""

    run_id: str
    remote: str
    base: str
    tip: str
    request: TextRef
    options: dict[str, Any]
    heartbeat_s: float = 20.0


@dataclass
class AgentInfo:
    name: str
    tier: str
    model: str
    writes: bool  # offered a writing tool: its run may end in a checkpoint commit
    skip_reason: str | None = None


@dataclass
class Prepared:
    """The plan as the worker that prepared it sees it (its agent files, config and provider)."""

    agents: list[AgentInfo]
    course: Course
    change_type: ChangeType
    provider: str


@dataclass
class Notes:
    """Notes for an agent's rerun, as references: the activity builds the text (`pipeline.steps`)."""

    kind: str  # "gate": refs["summary"] is the failing test summary; "remediation": refs are verdict handoffs
    refs: dict[str, TextRef] = field(default_factory=dict)


@dataclass
class AgentTask:
    run: RunRef
    name: str
    runs: int  # runs of this agent so far (this one is runs + 1)
    ended_runs: int
    statuses: dict[str, str]  # every agent's status, skipped ones included
    reasons: dict[str, str]  # why skipped
    handoffs: dict[str, TextRef]  # the latest finished handoff of each agent that has one
    strikes: dict[str, int] = field(default_factory=dict)
    test_summary: TextRef | None = None
    notes: Notes | None = None


@dataclass
class AgentResult:
    name: str
    status: str  # done | failed (an agent failing is a result, not an activity failure)
    error: str | None
    model: str | None
    started_at: str | None
    ended_at: str | None
    checkpoint: str | None  # the new tip when the agent changed files
    handoff: TextRef | None
    handoff_tokens: int
    decision: str | None  # the VERDICT of a verdict agent: APPROVE | REQUEST_CHANGES | None (missing)
    compacted: dict[str, TextRef]  # other agents' handoffs the run's handoff budget compacted
    handoff_budget: HandoffBudget
    usage: Usage
    cost_usd: float | None
    turns: int
    artifacts: str  # the ref of this run's artifact commit (session, metrics)
    worker: str
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # agents the plan's files narrowed away (after_plan)
    planned: str | None = None  # the class the plan's files showed, when that narrowed the run
    planned_reasons: list[str] = field(default_factory=list)


@dataclass
class GateTask:
    run: RunRef
    attempt: int
    recheck: bool  # first attempt of a gate step: re-classify the diff first
    statuses: dict[str, str]
    reasons: dict[str, str]
    gate: Gate
    change_type: ChangeType


@dataclass
class GateResult:
    ran: bool
    passed: bool
    summary: TextRef | None  # the whole test summary, for the fix notes and the reviewer's analysers
    short_summary: str  # its first 1,500 characters of output, for the run's error
    gate: Gate
    change_type: ChangeType
    unskipped: dict[str, str]  # agents the diff re-check added back, and why
    warnings: list[str] = field(default_factory=list)
    status: str = ""  # passed | failed | no_tests (empty from a worker before the status existed: `passed` decides)


@dataclass
class FinishTask:
    run: RunRef
    done: bool


@dataclass
class FinishResult:
    commit: str | None
    files: int = 0
    insertions: int = 0
    deletions: int = 0
    error: str | None = None


@dataclass
class AgentTrack:
    """What the workflow knows of an agent beyond its `AgentState`: where its texts are, what it used."""

    handoff: TextRef | None = None  # its latest finished handoff
    cost_usd: float | None = 0.0
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    worker: str | None = None
    artifacts: list[str] = field(default_factory=list)  # the refs of its runs' artifact commits


@dataclass
class FeatureOutcome:
    run_id: str
    feature_id: str
    request: str  # its first line
    options: dict[str, Any]  # the command line's choices, as state.json keeps them
    status: str  # done | failed
    error: str | None
    branch: str
    base: str
    commit: str | None
    tip: str
    agents: dict[str, AgentState]  # their handoffs are in `tracks`, as references
    tracks: dict[str, AgentTrack]
    gate: Gate
    change_type: ChangeType
    checkpoints: list[Checkpoint]
    strikes: dict[str, int]
    handoff_budget: HandoffBudget
    cost_usd: float | None
    usage: Usage
    warnings: list[str]
    started_at: str
    ended_at: str
    files: int = 0
    insertions: int = 0
    deletions: int = 0


@dataclass
class SlotRequest:
    """Ask the cluster's limiter for a model-call slot. `correction`: tokens this worker under- (or over-)
    estimated on earlier calls, settled with this request instead of a round trip of its own."""

    tokens: int
    correction: int = 0
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    burst: int | None = None


@dataclass
class SlotGrant:
    wait_s: float
    granted: int  # grants so far in this limiter run, for tests and reports
    at: float = 0.0  # the slot itself, in epoch seconds: callers wait for it, not for `wait_s` after the reply


@dataclass
class Bucket:
    """The limiter's state: the theoretical arrival times of its two buckets (virtual scheduling)."""

    request_tat: float = 0.0
    token_tat: float = 0.0
    paused_until: float = 0.0
