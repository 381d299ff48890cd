"""state.json (docs/state.md, schema 1): the whole run, rewritten atomically at every agent transition.

Atomic means write-to-temp then `os.replace`, so a reader (or a resumed run) never sees half a file.
Keys beyond the contract (`error`, `base_commit`, `commit`, `diff`, `gate`, `baseline`, `cost_usd`, `warnings`,
`progress`, `checkpoint(s)`, `options`, `strikes`, `test_summary`, `resumes`, `issue`, `published`, `approvals`, agents'
`runs`, `ended_runs` and `checkpoint`) are additive; unknown keys in an older or newer file are ignored.

Every section is a typed record (`Gate`, `Baseline`, `Progress`, `ChangeType`, `DiffStat`, `HandoffBudget`,
`Checkpoint`, `IssueRef`, `Published`) that writes and reads exactly the JSON the file has always held, so files written
before the records existed still load (a resume reads them).

Secrets are redacted in the file only (`autodev.core.redact`): the state in memory keeps every
handoff exactly as the agent wrote it, for the agents that come next. A resumed run reads the file,
so after a resume the agents still to come see redacted handoffs: a secret never travels further
than the process that first saw it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from autodev.core.clock import iso, utc_now
from autodev.core.jsonio import write_json_atomic
from autodev.core.redact import redact_data
from autodev.run.sections import (
    Baseline,
    ChangeType,
    Checkpoint,
    DiffStat,
    Gate,
    GateTests,
    GateVerdict,
    HandoffBudget,
    IssueRef,
    Progress,
    Published,
    Step,
)

RunStatus = Literal["running", "done", "failed", "interrupted", "budget", "awaiting-approval"]
AgentStatus = Literal["pending", "running", "done", "failed", "skipped", "cancelled"]
SCHEMA = 1
NOT_RUN = "the run ended before this agent ran"

__all__ = [
    "AgentState",
    "Baseline",
    "ChangeType",
    "Checkpoint",
    "DiffStat",
    "Gate",
    "GateTests",
    "GateVerdict",
    "HandoffBudget",
    "IssueRef",
    "Progress",
    "Published",
    "RunState",
    "RunStatus",
    "StateStore",
    "Step",
]


@dataclass
class AgentState:
    """One agent of a run. Its status changes only through the transition methods below."""

    status: AgentStatus = "pending"
    reason: str | None = None
    tier: str | None = None
    model: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    handoff: str | None = None
    session_file: str | None = None
    error: str | None = None
    runs: int = 0
    ended_runs: int = 0  # runs that ended, done or failed (not cut off): how far a resumed script has got
    checkpoint: str | None = None  # the commit of this agent's latest finished run, if it changed files

    def start(self, at: str) -> None:
        """A new run of this agent begins."""
        self.status, self.error, self.reason = "running", None, None
        self.runs += 1
        self.started_at, self.ended_at = at, None

    def end(
        self,
        ok: bool,
        *,
        error: str | None,
        model: str | None,
        started_at: str | None,
        ended_at: str | None,
        handoff: str | None = None,
    ) -> None:
        """The run ended, done or failed: what it used and, done, its handoff."""
        self.status = "done" if ok else "failed"
        self.error = error
        self.model = model or self.model
        self.started_at, self.ended_at = started_at or self.started_at, ended_at
        if ok:
            self.handoff = handoff
        self.ended_runs += 1

    def fail(self, error: str, at: str | None = None) -> None:
        """Failed without its run ending normally (a verdict missing twice, a step no retry could save)."""
        self.status, self.error = "failed", error
        if at is not None:
            self.ended_at = at

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason

    def unskip(self, reason: str) -> None:
        """The diff showed the agent is needed after all."""
        self.status, self.reason = "pending", reason

    def block(self, reason: str) -> None:
        """Not run because an agent it needs did not finish."""
        self.status, self.reason = "cancelled", reason

    def cancel(self, reason: str | None = None) -> None:
        """The run ended before this agent ran (or while it ran)."""
        self.status, self.reason = "cancelled", reason or self.reason or NOT_RUN

    def reset_for_rerun(self) -> None:
        """Pending again: a new round (validation, remediation) or a resume runs it once more."""
        self.status, self.reason, self.error = "pending", None, None

    @property
    def unfinished(self) -> bool:
        return self.status in ("pending", "running")


def cancel_unfinished(agents: dict[str, AgentState], reason: str | None = None) -> None:
    """The run is over: an agent still pending or running will not run in it."""
    for agent in agents.values():
        if agent.unfinished:
            agent.cancel(reason)


@dataclass
class RunState:
    run_id: str
    request: str
    repo: str
    worktree: str
    branch: str
    base_commit: str
    status: RunStatus = "running"
    change_type: ChangeType = field(default_factory=ChangeType)
    agents: dict[str, AgentState] = field(default_factory=dict)
    gate: Gate = field(default_factory=Gate)
    baseline: Baseline = field(default_factory=Baseline)  # the tests at the base commit, before the build
    commit: str | None = None
    diff: DiffStat | None = None
    cost_usd: float | None = 0.0
    pipeline: dict[str, list[str]] = field(default_factory=dict)  # agent -> the agents it needs
    handoff_budget: HandoffBudget = field(default_factory=HandoffBudget)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # Where the run is, so `autodev resume` continues instead of starting over (see run.driver).
    progress: Progress = field(default_factory=Progress)
    checkpoint: str | None = None  # the newest checkpoint commit on the branch (None: still at base_commit)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # the command-line overrides, replayed on resume
    strikes: dict[str, int] = field(default_factory=dict)  # missing verdicts per agent
    test_summary: str | None = None  # the last test run's summary, for the reviewer's analysers
    resumes: int = 0  # how many times `autodev resume` picked this run up
    issue: IssueRef | None = None  # the issue the request came from (`--issue`)
    published: Published | None = None  # where `--push` / `--pr` put the result
    approvals: dict[str, str] = field(default_factory=dict)  # `--approve` point -> pending | approved | rejected
    created_at: str = field(default_factory=lambda: iso(utc_now()))
    updated_at: str = field(default_factory=lambda: iso(utc_now()))

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "request": self.request,
            "repo": self.repo,
            "worktree": self.worktree,
            "branch": self.branch,
            "base_commit": self.base_commit,
            "status": self.status,
            "change_type": self.change_type.to_json(),
            "agents": {name: dict(vars(agent)) for name, agent in self.agents.items()},
            "gate": self.gate.to_json(),
            "baseline": self.baseline.to_json(),
            "commit": self.commit,
            "diff": self.diff.to_json() if self.diff is not None else None,
            "cost_usd": self.cost_usd,
            "pipeline": {name: list(needs) for name, needs in self.pipeline.items()},
            "handoff_budget": self.handoff_budget.to_json(),
            "warnings": list(self.warnings),
            "error": self.error,
            "progress": self.progress.to_json(),
            "checkpoint": self.checkpoint,
            "checkpoints": [checkpoint.to_json() for checkpoint in self.checkpoints],
            "options": dict(self.options),
            "strikes": dict(self.strikes),
            "test_summary": self.test_summary,
            "resumes": self.resumes,
            "issue": self.issue.to_json() if self.issue is not None else None,
            "published": self.published.to_json() if self.published is not None else None,
            "approvals": dict(self.approvals),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        """Read a state.json (any version of schema 1: unknown keys are ignored, missing ones default)."""
        agent_known = set(AgentState.__dataclass_fields__)
        plain = {
            "change_type",
            "agents",
            "gate",
            "baseline",
            "diff",
            "handoff_budget",
            "progress",
            "checkpoints",
            "issue",
            "published",
        }
        known = set(cls.__dataclass_fields__) - plain
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.agents = {
            name: AgentState(**{k: v for k, v in value.items() if k in agent_known})
            for name, value in (data.get("agents") or {}).items()
        }
        if "change_type" in data:
            state.change_type = ChangeType.from_json(data["change_type"] or {})
        state.gate = Gate.from_json(data.get("gate") or {})
        state.baseline = Baseline.from_json(data.get("baseline") or {})
        state.diff = DiffStat.from_json(data["diff"]) if data.get("diff") else None
        state.handoff_budget = HandoffBudget.from_json(data.get("handoff_budget") or {})
        if "progress" in data:
            state.progress = Progress.from_json(data["progress"] or {})
        state.checkpoints = [Checkpoint.from_json(item) for item in data.get("checkpoints") or []]
        state.issue = IssueRef.from_json(data["issue"]) if data.get("issue") else None
        state.published = Published.from_json(data["published"]) if data.get("published") else None
        return state


class StateStore:
    """Owns a run's state and its file; every change goes through `save()`."""

    def __init__(self, path: Path, state: RunState) -> None:
        self.path = path
        self.state = state
        self._lock = threading.Lock()

    def agent(self, name: str) -> AgentState:
        return self.state.agents.setdefault(name, AgentState())

    def save(self) -> None:
        with self._lock:
            self.state.updated_at = iso(utc_now())
            write_json_atomic(self.path, redact_data(self.state.to_json()))

    @staticmethod
    def load(path: Path) -> RunState:
        return RunState.from_json(json.loads(path.read_text(encoding="utf-8")))
