"""state.json (docs/state.md, schema 1): the whole run, rewritten atomically at every agent transition.

Atomic means write-to-temp then `os.replace`, so a reader (or a resumed run) never sees half a file.
Keys beyond the contract (`error`, `base_commit`, `commit`, `diff`, `gate`, `cost_usd`, `warnings`,
`progress`, `checkpoint(s)`, `options`, `strikes`, `test_summary`, `resumes`, agents' `runs`,
`ended_runs` and `checkpoint`) are additive; unknown keys in an older or newer file are ignored.

Secrets are redacted in the file only (`autodev.core.redact`): the state in memory keeps every
handoff exactly as the agent wrote it, for the agents that come next. A resumed run reads the file,
so after a resume the agents still to come see redacted handoffs: a secret never travels further
than the process that first saw it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from autodev.core.clock import iso, utc_now
from autodev.core.jsonio import write_json_atomic
from autodev.core.redact import redact_data

RunStatus = Literal["running", "done", "failed", "interrupted"]
AgentStatus = Literal["pending", "running", "done", "failed", "skipped", "cancelled"]
SCHEMA = 1


@dataclass
class AgentState:
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


@dataclass
class RunState:
    run_id: str
    request: str
    repo: str
    worktree: str
    branch: str
    base_commit: str
    status: RunStatus = "running"
    change_type: dict[str, Any] = field(default_factory=lambda: {"before": "feature", "after": None, "reasons": []})
    agents: dict[str, AgentState] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    commit: str | None = None
    diff: dict[str, Any] | None = None
    cost_usd: float | None = 0.0
    pipeline: dict[str, list[str]] = field(default_factory=dict)  # agent -> the agents it needs
    handoff_budget: dict[str, Any] = field(default_factory=dict)  # budget, total, per_agent, compacted
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # Where the run is, so `autodev resume` continues instead of starting over (see orchestrator.Step).
    progress: dict[str, Any] = field(default_factory=lambda: {"step": "build", "cycle": 0})
    checkpoint: str | None = None  # the newest checkpoint commit on the branch (None: still at base_commit)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # {agent, run, commit, at}
    options: dict[str, Any] = field(default_factory=dict)  # the command-line overrides, replayed on resume
    strikes: dict[str, int] = field(default_factory=dict)  # missing verdicts per agent
    test_summary: str | None = None  # the last test run's summary, for the reviewer's analysers
    resumes: int = 0  # how many times `autodev resume` picked this run up
    created_at: str = field(default_factory=lambda: iso(utc_now()))
    updated_at: str = field(default_factory=lambda: iso(utc_now()))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema": SCHEMA, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        known = {f.name for f in dataclasses.fields(cls)}
        agent_known = {f.name for f in dataclasses.fields(AgentState)}
        fields = {k: v for k, v in data.items() if k in known}
        fields["agents"] = {
            name: AgentState(**{k: v for k, v in value.items() if k in agent_known})
            for name, value in fields.get("agents", {}).items()
        }
        return cls(**fields)


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
