"""The typed sections of state.json: each writes and reads exactly the JSON the file has always held.

Files written before these records existed load unchanged (`autodev resume` reads them), and a
section that was `{}` until something happened (`gate`, `handoff_budget`) is still `{}` until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

LISTED_TESTS = 20  # test names kept per list in state.json

# build -> gate -> validate(0) [-> remediate(0) -> gate -> validate(1) ...] -> finish
Step = Literal["build", "gate", "validate", "remediate", "finish"]


@dataclass
class Progress:
    """Where the run is (`progress`), so `autodev resume` continues instead of starting over.

    `notes`: the remediation step's findings, saved with the step so a resumed remediation gets them.
    `engine`/`workflow_id`: a run brought home from Temporal names the workflow that ran it.
    """

    step: Step = "build"
    cycle: int = 0
    notes: str | None = None
    engine: str | None = None
    workflow_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"step": self.step, "cycle": self.cycle}
        optional = {"notes": self.notes, "engine": self.engine, "workflow_id": self.workflow_id}
        return data | {key: value for key, value in optional.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        return cls(
            step=data.get("step", "build"),
            cycle=int(data.get("cycle", 0)),
            notes=data.get("notes"),
            engine=data.get("engine"),
            workflow_id=data.get("workflow_id"),
        )


@dataclass
class ChangeType:
    """The change's class as the request suggested it (`before`), as the plan's files showed it when that
    narrowed a feature request (`planned`), and as its diff showed it (`after`)."""

    before: str = "feature"
    after: str | None = None
    reasons: list[str] = field(default_factory=list)
    planned: str | None = None

    @property
    def expected(self) -> str:
        """The class the run took before the diff was known: the plan's, else the request's."""
        return self.planned or self.before

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "planned": self.planned, "after": self.after, "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeType:
        return cls(
            data.get("before", "feature"), data.get("after"), list(data.get("reasons") or []), data.get("planned")
        )


@dataclass
class GateTests:
    """The test runner's own counts (from its report), when it wrote one."""

    runner: str
    passed: int | None
    failed: int | None
    errors: int | None
    skipped: int | None
    total: int | None
    failing: list[str] = field(default_factory=list)  # the first 20 failing tests' names

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self)) | {"failing": list(self.failing)}


@dataclass
class GateVerdict:
    """How the last test run was judged (`gate.verdict`): per test against the baseline, or by exit code.

    Against the baseline (as SWE-bench judges): tests that passed at the base must still pass, new or
    changed tests must pass, and tests that already failed at the base are listed but not blamed.
    """

    by: str  # "baseline" | "exit_code"
    note: str | None = None  # why the exit code decided (no baseline), or what else the judge saw
    preexisting: list[str] = field(default_factory=list)  # failing at the base too: reported, not blamed
    broken: list[str] = field(default_factory=list)  # passed at the base; fail, or no longer run, now
    new_failing: list[str] = field(default_factory=list)  # new or changed tests that fail
    fixed: int = 0  # tests that failed at the base and pass now

    def to_json(self) -> dict[str, Any]:
        """The lists as their first 20 names (a change that breaks a whole suite would fill the file)."""
        return {
            "by": self.by,
            "note": self.note,
            "preexisting": self.preexisting[:LISTED_TESTS],
            "broken": self.broken[:LISTED_TESTS],
            "new_failing": self.new_failing[:LISTED_TESTS],
            "fixed": self.fixed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateVerdict:
        return cls(
            by=data.get("by", "exit_code"),
            note=data.get("note"),
            preexisting=list(data.get("preexisting") or []),
            broken=list(data.get("broken") or []),
            new_failing=list(data.get("new_failing") or []),
            fixed=int(data.get("fixed", 0)),
        )


@dataclass
class Gate:
    """The test gate (`gate`): skipped with a reason, or its runs and the last run's result.

    Written as before the record existed: only the keys that were set (`{}` until the gate is reached).
    """

    status: str | None = None  # passed | failed | no_tests | skipped
    reason: str | None = None  # why skipped
    runs: int | None = None
    exit_code: int | None = None
    command: list[str] = field(default_factory=list)
    duration_s: float | None = None
    tests: GateTests | None = None
    verdict: GateVerdict | None = None
    after: str | None = None  # the agent the tests ran after (the timeline and critical path place them there)
    environment: str | None = None  # which environment ran them and why (None: not recorded)

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason

    def due(self) -> None:
        """The re-checked diff needs the tests: an earlier step's reason for skipping no longer holds."""
        self.reason = None

    def ran(self, status: str, exit_code: int | None, command: list[str], duration_s: float) -> None:
        """`status`: passed, failed or no_tests (the judged verdict, not the exit code alone)."""
        self.status, self.reason = status, None
        self.runs = (self.runs or 0) + 1
        self.exit_code, self.command, self.duration_s = exit_code, command, round(duration_s, 3)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.status is not None:
            data["status"] = self.status
        if self.reason is not None:
            data["reason"] = self.reason
        if self.runs is not None:
            data |= {
                "runs": self.runs,
                "exit_code": self.exit_code,
                "command": list(self.command),
                "duration_s": self.duration_s,
            }
        if self.tests is not None:
            data["tests"] = self.tests.to_json()
        if self.verdict is not None:
            data["verdict"] = self.verdict.to_json()
        if self.after is not None:
            data["after"] = self.after
        if self.environment is not None:
            data["environment"] = self.environment
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gate:
        tests, verdict = data.get("tests"), data.get("verdict")
        return cls(
            status=data.get("status"),
            reason=data.get("reason"),
            runs=data.get("runs"),
            exit_code=data.get("exit_code"),
            command=list(data.get("command") or []),
            duration_s=data.get("duration_s"),
            tests=GateTests(**tests) if tests else None,
            verdict=GateVerdict.from_json(verdict) if verdict else None,
            after=data.get("after"),
            environment=data.get("environment"),
        )


@dataclass
class Baseline:
    """The project's tests at the base commit, run once before the build phase (`baseline`; `{}` until then).

    `recorded`: the gate judges each test against it. `unavailable` (with `reason`): the gate falls
    back to the exit code. The per-test ids live in the cache file (`cache_file`), keyed by the base
    commit, the command and the environment, so a second run on the same base does not run them again.
    """

    status: str | None = None  # recorded | unavailable
    reason: str | None = None  # why unavailable
    commit: str | None = None
    command: list[str] = field(default_factory=list)
    key: str | None = None  # the cache key: base commit + command + environment, hashed
    cache_file: str | None = None
    cached: bool = False  # read from the cache: not run in this run
    exit_code: int | None = None
    duration_s: float | None = None
    tests: GateTests | None = None

    def to_json(self) -> dict[str, Any]:
        if self.status is None:
            return {}
        data: dict[str, Any] = {"status": self.status}
        if self.reason is not None:
            data["reason"] = self.reason
        data |= {
            "commit": self.commit,
            "command": list(self.command),
            "key": self.key,
            "cache_file": self.cache_file,
            "cached": self.cached,
            "exit_code": self.exit_code,
            "duration_s": self.duration_s,
        }
        if self.tests is not None:
            data["tests"] = self.tests.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Baseline:
        if not data:
            return cls()
        tests = data.get("tests")
        return cls(
            status=data.get("status"),
            reason=data.get("reason"),
            commit=data.get("commit"),
            command=list(data.get("command") or []),
            key=data.get("key"),
            cache_file=data.get("cache_file"),
            cached=bool(data.get("cached", False)),
            exit_code=data.get("exit_code"),
            duration_s=data.get("duration_s"),
            tests=GateTests(**tests) if tests else None,
        )


@dataclass
class DiffStat:
    """The run's change (`diff`): its size and `git diff --stat`."""

    files: int
    insertions: int
    deletions: int
    stat: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DiffStat:
        return cls(
            int(data.get("files", 0)),
            int(data.get("insertions", 0)),
            int(data.get("deletions", 0)),
            data.get("stat", ""),
        )


@dataclass
class HandoffBudget:
    """How the handoffs fit the run's budget (`handoff_budget`; `{}` until the first handoff)."""

    budget: int | None = None
    total: int = 0
    per_agent: dict[str, int] = field(default_factory=dict)
    compacted: dict[str, dict[str, int]] = field(default_factory=dict)  # agent -> {"from", "to"}

    def merged(self, newer: HandoffBudget) -> HandoffBudget:
        """`newer`'s figures, with every compaction so far (an agent compacted once stays listed)."""
        return HandoffBudget(newer.budget, newer.total, dict(newer.per_agent), {**self.compacted, **newer.compacted})

    def to_json(self) -> dict[str, Any]:
        if self.budget is None:
            return {}
        return {
            "budget": self.budget,
            "total": self.total,
            "per_agent": dict(self.per_agent),
            "compacted": dict(self.compacted),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HandoffBudget:
        if not data:
            return cls()
        return cls(
            data.get("budget"),
            int(data.get("total", 0)),
            dict(data.get("per_agent") or {}),
            dict(data.get("compacted") or {}),
        )


@dataclass
class Checkpoint:
    """One checkpoint commit (`checkpoints[]`): which agent's run made it, and when."""

    agent: str
    run: int
    commit: str
    at: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(data["agent"], int(data["run"]), data["commit"], data["at"])


@dataclass
class IssueRef:
    """Where the request came from when it was an issue (`issue`): a GitHub issue, or a markdown file.

    Kept so the pull request can say `Closes #N` and a reader of the run can find the issue again.
    """

    title: str
    number: int | None = None
    url: str | None = None
    file: str | None = None  # the markdown file's absolute path (`--issue FILE.md`)

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IssueRef:
        number = data.get("number")
        return cls(
            str(data.get("title") or ""), int(number) if number is not None else None, data.get("url"), data.get("file")
        )


@dataclass
class Published:
    """Where the result went (`published`): the branch pushed to a remote and, with `--pr`, the pull request.

    A pushed branch is other people's to see: whoever removes a run's branch later must know it left.
    """

    remote: str
    branch: str
    commit: str
    pushed_at: str
    pull_request: str | None = None  # the pull request's URL, as `gh pr create` printed it
    draft: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Published:
        return cls(
            data["remote"],
            data["branch"],
            data["commit"],
            data["pushed_at"],
            data.get("pull_request"),
            bool(data.get("draft", False)),
        )
