"""The driver's executor inside `FeatureWorkflow`: each agent run, test run and the finish is an activity.

The driver (`run.driver`) decides what happens, exactly as in a local run; this class makes each
step an activity and records what it returned the moment it returns, so a finished agent is never
scheduled again: not when a worker dies (the activity that was running is retried elsewhere, from
the checkpoint recorded here), and not when the workflow is replayed on another worker. Writing
agents take turns (one at a time per feature), so every checkpoint builds on the one before and
`tip` is the run's one line of history. Texts stay in git: notes and handoffs travel as `TextRef`s.

Nothing here does I/O or reads a clock other than `workflow.now()`: it runs in Temporal's sandbox and
is replayed deterministically. Activities are called by name, so this module does not import them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from autodev.core.usage import Usage
    from autodev.engines.temporal.messages import (
        AgentResult,
        AgentTask,
        AgentTrack,
        FeatureInput,
        FinishResult,
        FinishTask,
        GateResult,
        GateTask,
        Notes,
        Prepared,
        RunRef,
        TextRef,
    )
    from autodev.models.pricing import total_cost
    from autodev.run import driver, steps
    from autodev.run.driver import GateRun, RunFailed
    from autodev.run.state import AgentState, ChangeType, Checkpoint, Gate, HandoffBudget, Progress

AGENT_TIMEOUT = timedelta(hours=6)  # one agent run, its rate-limit waits included
STEP_TIMEOUT = timedelta(hours=2)  # preparing, a test run, finishing
ATTEMPTS = 6  # per step: retries cover workers that die or lose the server, not agents that fail
NON_RETRYABLE = ["UserError", "PipelineError"]
T = TypeVar("T")


def cause(error: BaseException) -> str:
    """The innermost message of an activity failure (the worker's error, not Temporal's wrapper)."""
    while error.__cause__ is not None:
        error = error.__cause__
    message = error.message if isinstance(error, ApplicationError) else str(error)
    return message[:4000]


def run_ref(inp: FeatureInput, tip: str) -> RunRef:
    return RunRef(
        run_id=inp.run_id,
        remote=inp.remote,
        base=inp.base,
        tip=tip,
        request=inp.request,
        options=inp.options,
        heartbeat_s=max(0.2, inp.heartbeat_timeout_s / 3),
    )


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=ATTEMPTS,
        non_retryable_error_types=NON_RETRYABLE,
    )


def step_options(inp: FeatureInput) -> dict[str, Any]:
    return {
        "start_to_close_timeout": STEP_TIMEOUT,
        "heartbeat_timeout": timedelta(seconds=inp.heartbeat_timeout_s),
        "retry_policy": retry_policy(),
    }


async def run_step(
    inp: FeatureInput, activity: str, arg: Any, result_type: type[T], *, activity_id: str, summary: str
) -> T:
    """A step that is not an agent (preparing, a test run, finishing): the step timeouts and retries."""
    result: T = await workflow.execute_activity(
        activity, arg, result_type=result_type, activity_id=activity_id, summary=summary, **step_options(inp)
    )
    return result


def stage_of(progress: Progress) -> str:
    """The stage `autodev status` shows for where the driver is."""
    step, cycle = progress.step, progress.cycle
    if step == "remediate":
        return f"remediate (cycle {cycle + 1})"
    return step if cycle == 0 or step in ("build", "finish") else f"{step} (cycle {cycle})"


@dataclass
class WorkflowLedger:
    """The run's state as the driver moves it on; the workflow's history keeps it."""

    agents: dict[str, AgentState]
    strikes: dict[str, int] = field(default_factory=dict)
    progress: Progress = field(default_factory=Progress)


class WorkflowExecutor:
    def __init__(self, inp: FeatureInput, prepared: Prepared) -> None:
        self.inp = inp
        self.prepared = prepared
        self.writes = {info.name: info.writes for info in prepared.agents}
        agents = {}
        for info in prepared.agents:
            agents[info.name] = AgentState(tier=info.tier, model=info.model)
            if info.skip_reason is not None:
                agents[info.name].skip(info.skip_reason)
        self.ledger = WorkflowLedger(agents)
        self.tracks = {info.name: AgentTrack() for info in prepared.agents}
        self.tip = inp.base
        self.gate = Gate()
        self.change_type = ChangeType(
            prepared.change_type.before, prepared.change_type.after, list(prepared.change_type.reasons)
        )
        self.decisions: dict[str, str | None] = {}
        self.checkpoints: list[Checkpoint] = []
        self.test_summary: TextRef | None = None
        self.handoff_budget = HandoffBudget()
        self.warnings: list[str] = []
        self.status = "running"
        self.error: str | None = None
        self.stage: str | None = None  # set at the end; before, the stage is where the driver is
        self.finished = FinishResult(commit=None)
        self._gate_runs = 0
        self._writer = asyncio.Lock()

    # ------------------------------------------------------------------ what the workflow shows
    def current_stage(self) -> str:
        return self.stage or stage_of(self.ledger.progress)

    def cost(self) -> float | None:
        return total_cost(*(track.cost_usd for track in self.tracks.values()))

    def usage(self) -> Usage:
        return sum((track.usage for track in self.tracks.values()), Usage())

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # ------------------------------------------------------------------ the driver's executor
    def save(self) -> None:
        """Nothing to do: the workflow's history is the record."""

    def note(self, agent: str | None, message: str) -> None:
        self._warn(message)

    def blocked(self, name: str, reason: str) -> None:
        """Nothing to do: the status query shows it."""

    def phase(self, names: Sequence[str], label: str, *, review: bool) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()  # each validation agent's activity prepares its own review

    @contextlib.asynccontextmanager
    async def _turn(self, writes: bool) -> AsyncIterator[None]:
        """Writers take turns, so each starts from the checkpoint of the one before."""
        if not writes:
            yield
            return
        async with self._writer:
            yield

    async def run_agent(self, name: str, notes: driver.Notes[TextRef] | None) -> bool:
        agent = self.ledger.agents[name]
        async with self._turn(self.writes[name]):
            agent.start(workflow.now().isoformat())
            task = AgentTask(
                run=run_ref(self.inp, self.tip),
                name=name,
                runs=agent.runs - 1,
                ended_runs=agent.ended_runs,
                statuses={other: a.status for other, a in self.ledger.agents.items()},
                reasons=self._skip_reasons(),
                handoffs={n: t.handoff for n, t in self.tracks.items() if t.handoff is not None},
                strikes=dict(self.ledger.strikes),
                test_summary=self.test_summary,
                notes=Notes(notes.kind, dict(notes.refs)) if notes is not None else None,
            )
            try:
                result: AgentResult = await workflow.execute_activity(
                    "run_agent",
                    task,
                    result_type=AgentResult,
                    activity_id=f"{name}#{agent.runs}",
                    summary=f"{name} (run {agent.runs})" + (f", {notes.kind} notes" if notes else ""),
                    start_to_close_timeout=AGENT_TIMEOUT,
                    heartbeat_timeout=timedelta(seconds=self.inp.heartbeat_timeout_s),
                    retry_policy=retry_policy(),
                )
            except ActivityError as exc:
                agent.fail(cause(exc), at=workflow.now().isoformat())
                return False
            self._apply(result, agent.runs)
        return result.status == "done"

    def _apply(self, result: AgentResult, run: int) -> None:
        agent, track = self.ledger.agents[result.name], self.tracks[result.name]
        done = result.status == "done"
        agent.end(done, error=result.error, model=result.model, started_at=result.started_at, ended_at=result.ended_at)
        track.turns += result.turns
        track.usage = track.usage + result.usage
        track.cost_usd = total_cost(track.cost_usd, result.cost_usd)
        track.worker = result.worker
        track.artifacts.append(result.artifacts)
        if done:
            track.handoff = result.handoff
            self.decisions[result.name] = result.decision
        for other, ref in result.compacted.items():
            self.tracks[other].handoff = ref
        if result.handoff_budget.budget is not None:
            self.handoff_budget = self.handoff_budget.merged(result.handoff_budget)
        if result.checkpoint:
            self.tip = agent.checkpoint = result.checkpoint
            when = result.ended_at or workflow.now().isoformat()
            self.checkpoints.append(Checkpoint(result.name, run, result.checkpoint, when))
        for warning in result.warnings:
            self._warn(warning)
        for other, why in result.skipped.items():
            self.ledger.agents[other].skip(why)  # the plan narrowed the run (selection.after_plan)
        if result.planned is not None:
            self.change_type.planned = result.planned
            self.change_type.reasons += [r for r in result.planned_reasons if r not in self.change_type.reasons]

    async def run_gate(self, attempt: int) -> GateRun[TextRef] | None:
        self._gate_runs += 1
        task = GateTask(
            run=run_ref(self.inp, self.tip),
            attempt=attempt,
            recheck=attempt == 0,
            statuses={name: agent.status for name, agent in self.ledger.agents.items()},
            reasons=self._skip_reasons(),
            gate=self.gate,
            change_type=self.change_type,
        )
        summary = f"test gate (cycle {self.ledger.progress.cycle}, attempt {attempt + 1})"
        try:
            result = await run_step(
                self.inp, "test_gate", task, GateResult, activity_id=f"test_gate#{self._gate_runs}", summary=summary
            )
        except ActivityError as exc:
            raise RunFailed(f"the test gate could not run: {cause(exc)}") from None
        for name, why in result.unskipped.items():
            self.ledger.agents[name].unskip(why)
            self._warn(why)
        self.gate, self.change_type = result.gate, result.change_type
        for warning in result.warnings:
            self._warn(warning)
        if not result.ran or result.summary is None:
            return None
        self.test_summary = result.summary
        status: driver.GateStatus = "passed" if result.passed else "failed"
        if result.status == "no_tests":
            status = "no_tests"
        return GateRun(status, result.summary, result.short_summary)

    async def baseline(self) -> None:
        """None yet on Temporal: each gate activity works in a fresh checkout of the tip, so the gate
        judges by exit code there (and says so); a local run takes the baseline."""

    def decision(self, name: str) -> steps.Decision:
        decision = self.decisions.get(name)
        return decision if decision in ("APPROVE", "REQUEST_CHANGES") else None  # type: ignore[return-value]

    def handoff(self, name: str) -> TextRef | None:
        return self.tracks[name].handoff

    def notes_to_save(self, notes: driver.Notes[TextRef]) -> str | None:
        return None  # the workflow's history keeps them

    def saved_notes(self, text: str) -> driver.Notes[TextRef]:
        raise AssertionError("a workflow never resumes from saved notes: its history replays")

    async def approve(self, point: str) -> bool:
        """Never asked: a Temporal batch has no `--approve` (its Course has no approval points), so nothing pauses."""
        return True

    async def finish(self, done: bool, error: str | None, stopped: str | None = None) -> None:
        """Done: the checkpoints squashed into one commit on the run's branch; otherwise the branch keeps them."""
        self.status, self.error = ("done", None) if done else ("failed", error)
        self.stage = "finish"
        summary = "finish: squash the checkpoints" if done else "finish: keep the checkpoints"
        task = FinishTask(run_ref(self.inp, self.tip), done=done)
        try:
            self.finished = await run_step(
                self.inp, "finish_feature", task, FinishResult, activity_id="finish_feature", summary=summary
            )
        except ActivityError as exc:
            self.finished.error = cause(exc)
        if self.finished.error:
            self.status = "failed"
            failure = f"could not commit the result: {self.finished.error}"
            self.error = (self.error + "; " if self.error else "") + failure
        self.stage = self.status

    def _skip_reasons(self) -> dict[str, str]:
        return {name: a.reason for name, a in self.ledger.agents.items() if a.status == "skipped" and a.reason}
