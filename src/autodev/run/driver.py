"""The run's control flow, written once: build, test gate, validation, remediation cycles, finish.

Both engines run this code. The local engine (`autodev.engines.local.run`) and the Temporal
workflow (`autodev.engines.temporal.workflows`) are two `Executor`s of it: they differ in how one
agent, one test run and the end of the run happen (in this process, or as activities on a cluster)
and in how they refer to texts (the text itself, or a `TextRef` to it in git), never in what
happens when. The decisions are `run.steps`' pure functions, the scheduling inside a phase is
`run.scheduler.run_graph`.

The run is a small state machine (`Step`) whose position is the ledger's `progress`, saved with
every transition: a local run that was killed goes on from it (`autodev resume`); the Temporal
workflow keeps it in its replayed history. Nothing here does I/O, reads a clock or uses anything but
plain asyncio, so Temporal's deterministic workflow sandbox can run it as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from autodev.config.settings import Settings
from autodev.run import steps
from autodev.run.graph import Pipeline
from autodev.run.scheduler import run_graph
from autodev.run.state import AgentState, Progress, Step

R = TypeVar("R")  # how an engine refers to a text: the text itself (local) or a TextRef (Temporal)

SKIPPED_OR_DONE = ("skipped", "done")
PLAN_AGENT = "planner"  # whose handoff `--approve plan` shows before anything downstream of it runs


class RunFailed(Exception):
    """Ends a run early; the message becomes the run's `error`."""


class RunStopped(Exception):
    """Ends a run early but not as a failure: it waits, resumably, in a status of its own (`budget`).

    Raised by an executor's `run_agent`. Agents already running in the same phase go on (each of
    their calls is still checked), no new agent starts, and the run ends with `status`.
    """

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Course:
    """What the driver needs of the plan: the pipeline's shape and the run's limits."""

    needs: dict[str, list[str]]
    build_phase: list[str]
    validation_phase: list[str]
    gate_after: str | None
    verdict_agents: list[str]
    remediation_target: str | None
    max_parallel: int
    max_test_retries: int
    max_remediation_cycles: int
    approvals: tuple[str, ...] = ()  # `--approve`: `plan` (after PLAN_AGENT), `diff` (before the final commit)

    @classmethod
    def of(cls, pipeline: Pipeline, settings: Settings, approvals: Sequence[str] = ()) -> Course:
        return cls(
            needs={node.agent: list(node.needs) for node in pipeline.nodes},
            build_phase=list(pipeline.build_phase()),
            validation_phase=list(pipeline.validation_phase()),
            gate_after=pipeline.gate_after,
            verdict_agents=sorted(pipeline.verdict_agents),
            remediation_target=pipeline.remediation_target,
            max_parallel=settings.max_parallel,
            max_test_retries=settings.max_test_retries,
            max_remediation_cycles=settings.max_remediation_cycles,
            approvals=tuple(approvals),
        )

    def after_plan(self) -> set[str]:
        """The agents that wait for the plan's approval: everything downstream of PLAN_AGENT."""
        if "plan" not in self.approvals or PLAN_AGENT not in self.needs:
            return set()
        downstream: set[str] = set()
        grown = True
        while grown:
            grown = False
            for name, needs in self.needs.items():
                if name not in downstream and (PLAN_AGENT in needs or downstream.intersection(needs)):
                    downstream.add(name)
                    grown = True
        return downstream


@dataclass(frozen=True)
class Notes(Generic[R]):
    """What an agent's rerun is told, as references the executor resolves (`steps.rerun_notes`).

    `gate`: refs["summary"] is the failing test summary; `remediation`: refs are the handoffs of the
    agents that requested changes; `findings`: refs["findings"] are a remediation's findings as saved.
    """

    kind: Literal["gate", "remediation", "findings"]
    refs: Mapping[str, R]


GateStatus = Literal["passed", "failed", "no_tests"]


@dataclass(frozen=True)
class GateRun(Generic[R]):
    """One run of the project's tests, judged (against the baseline when there is one).

    Only `failed` goes back to the gate agent. `no_tests` is not a pass, but there is nothing for it
    to fix: the run goes on, and the validation agents are told that no tests ran.
    """

    status: GateStatus
    summary: R  # the whole summary, for the fix notes
    short_summary: str  # its first part, for the run's error


class Ledger(Protocol):
    """The part of a run's state the driver reads and moves on (`RunState` is one)."""

    agents: dict[str, AgentState]
    strikes: dict[str, int]
    progress: Progress


class Executor(Protocol[R]):
    """What an engine does for the driver. Each method is one thing that happens to the run."""

    @property
    def ledger(self) -> Ledger: ...

    def save(self) -> None:
        """Keep the ledger (local: state.json; Temporal: nothing, the workflow's history is the record)."""

    def note(self, agent: str | None, message: str) -> None:
        """Tell whoever is watching."""

    def blocked(self, name: str, reason: str) -> None:
        """`name` was not run: an agent it needs did not finish (already marked and saved)."""

    def phase(self, names: Sequence[str], label: str, *, review: bool) -> AbstractAsyncContextManager[None]:
        """Around a phase of agents; `review`: a validation round (it reviews the change so far)."""
        ...

    async def run_agent(self, name: str, notes: Notes[R] | None) -> bool:
        """Run one agent (with notes, a rerun) and record it; True when it finished."""
        ...

    async def run_gate(self, attempt: int) -> GateRun[R] | None:
        """Run the project's tests once. Attempt 0 first re-checks the diff; None: no gate this step."""
        ...

    async def baseline(self) -> None:
        """Before the build phase: the tests at the base commit, for the gate to judge against (or nothing)."""

    def decision(self, name: str) -> steps.Decision:
        """The VERDICT of a finished verdict agent (None: its handoff has no VERDICT line)."""
        ...

    def handoff(self, name: str) -> R | None: ...

    def notes_to_save(self, notes: Notes[R]) -> str | None:
        """What `progress.notes` keeps of a remediation's notes, for a resumed run (None: nothing)."""
        ...

    def saved_notes(self, text: str) -> Notes[R]:
        """The notes of a resumed remediation step, from what `notes_to_save` kept."""
        ...

    async def approve(self, point: str) -> bool:
        """`--approve POINT` (`plan`, `diff`): True to go on, False when rejected. An executor that cannot
        ask now raises `RunStopped("awaiting-approval", ...)`; one that was already answered says so at once."""
        ...

    async def finish(self, done: bool, error: str | None, stopped: str | None = None) -> None:
        """The run is over (done, or failed with `error`): its result, committed and recorded.
        `stopped`: not failed but stopped resumably, in this status (a `RunStopped`'s)."""


class Driver(Generic[R]):
    """Drives one run over an executor, from wherever its ledger says it is."""

    def __init__(self, course: Course, executor: Executor[R]) -> None:
        self.course = course
        self.executor = executor
        self._notes: Notes[R] | None = None  # the remediation notes of this process's validation round
        self._stop: RunStopped | None = None  # an agent stopped the run: no new agent starts
        self._after_plan = course.after_plan()
        self._asking = asyncio.Lock()  # agents that start together ask for one approval once

    @property
    def agents(self) -> dict[str, AgentState]:
        return self.executor.ledger.agents

    async def run(self) -> None:
        """Drive to the end; a run that failed ends as failed, anything else propagates to the engine."""
        done, error, stopped = True, None, None
        try:
            await self.drive()
        except RunFailed as exc:
            done, error = False, str(exc)
        except RunStopped as exc:
            done, error, stopped = False, exc.message, exc.status
        for agent in self.agents.values():
            if agent.unfinished:
                agent.cancel()
        if stopped is None:
            await self.executor.finish(done, error)
        else:
            await self.executor.finish(done, error, stopped)

    async def drive(self) -> None:
        """Run the steps from wherever the ledger's progress says the run is."""
        course, ledger = self.course, self.executor.ledger
        validation = course.validation_phase
        while True:
            step, cycle = ledger.progress.step, ledger.progress.cycle
            if step == "build":
                await self.executor.baseline()
                await self.run_phase(course.build_phase, "build_phase")
                self.advance("gate", cycle)
            elif step == "gate":
                await self.test_gate()
                self.advance("validate" if validation else "finish", cycle, rerun=validation)
            elif step == "validate":
                await self.validate(cycle)
            elif step == "remediate":
                target = course.remediation_target
                assert target is not None, "only a pipeline with a remediation target gets here"
                if self.agents[target].status != "done":
                    notes = self._notes or self.executor.saved_notes(ledger.progress.notes or "")
                    await self.rerun(target, notes)
                self.advance("gate", cycle + 1)
            else:
                if "diff" in course.approvals and not await self._approved("diff"):
                    raise RunFailed("the change was rejected at its approval (--approve diff)")
                return

    def advance(self, step: Step, cycle: int, *, notes: Notes[R] | None = None, rerun: Sequence[str] = ()) -> None:
        """Move to `step`, marking the agents it (re)runs pending, in one save: a resume starts exactly here."""
        saved = self.executor.notes_to_save(notes) if notes is not None else None
        self.executor.ledger.progress = Progress(step, cycle, notes=saved)
        self._notes = notes
        for name in rerun:
            agent = self.agents[name]
            if agent.status != "skipped":
                agent.reset_for_rerun()
        self.executor.save()

    async def run_phase(self, names: Sequence[str], label: str, *, review: bool = False) -> None:
        """Run `names` as their dependencies allow; an agent already done (or skipped) counts as finished."""
        agents = self.agents
        finished = [name for name in names if agents[name].status in SKIPPED_OR_DONE]
        if not names or len(finished) == len(names):
            return
        async with self.executor.phase(names, label, review=review):
            results = await run_graph(
                self.course.needs,
                names,
                self._run_one,
                max_parallel=self.course.max_parallel,
                on_blocked=self._blocked,
                skipped=finished,
            )
        if self._stop is not None:
            raise self._stop
        failed = [name for name in names if not results.get(name) and agents[name].status == "failed"]
        if failed:
            raise RunFailed("agent failed: " + "; ".join(f"{name}: {agents[name].error}" for name in failed))

    async def _run_one(self, name: str) -> bool:
        if self._stop is not None:
            return False  # left pending: the run ends before it starts
        try:
            if name in self._after_plan and not await self._approved("plan"):
                raise RunStopped("rejected", "the plan was rejected at its approval (--approve plan)")
            if self.agents[name].status == "skipped":
                return True  # skipped while the phase ran: the plan narrowed the run (`selection.after_plan`)
            return await self.executor.run_agent(name, None)
        except RunStopped as stop:  # siblings already running go on; the phase ends with this stop
            self._stop = self._stop or stop
            return False

    async def _approved(self, point: str) -> bool:
        async with self._asking:
            return await self.executor.approve(point)

    def _blocked(self, name: str, reason: str) -> None:
        if self._stop is not None:
            return  # not blocked by a failure: the run stopped before it (it stays pending, to resume)
        self.agents[name].block(reason)
        self.executor.save()
        self.executor.blocked(name, reason)

    async def rerun(self, name: str, notes: Notes[R]) -> None:
        if not await self.executor.run_agent(name, notes):
            raise RunFailed(f"agent failed: {name}: {self.agents[name].error}")

    async def test_gate(self) -> None:
        """The project's tests after the gate agent; failures go back to it, at most `max_test_retries` times."""
        gate_agent = self.course.gate_after
        if gate_agent is None:
            return
        retries = self.course.max_test_retries
        for attempt in range(retries + 1):
            run = await self.executor.run_gate(attempt)
            if run is None and attempt == 0 and self.brought_back():
                await self.run_phase(self.course.build_phase, "build_phase_after_recheck")
                run = await self.executor.run_gate(attempt)
            if run is None or run.status != "failed":
                return
            if attempt == retries:
                raise RunFailed(steps.gate_exhausted(retries, gate_agent, run.short_summary))
            await self.rerun(gate_agent, Notes("gate", {"summary": run.summary}))

    def brought_back(self) -> list[str]:
        """Build-phase agents pending at the gate: the diff re-check of a fast-path run that changed code
        brought them back (the test writer). They run before the tests, then the gate re-checks and runs."""
        gate_agent = self.course.gate_after
        return [n for n in self.course.build_phase if n != gate_agent and self.agents[n].status == "pending"]

    async def validate(self, cycle: int) -> None:
        """A validation round, then: finish, a remediation cycle, or (out of cycles) the run fails."""
        course, executor = self.course, self.executor
        label = "validation_phase" if cycle == 0 else f"validation_phase_{cycle + 1}"
        await self.run_phase(course.validation_phase, label, review=True)
        requesting = self.judge()
        target = course.remediation_target
        after = steps.after_validation(requesting, cycle, course.max_remediation_cycles, target)
        if after == "finish":
            self.advance("finish", cycle)
            return
        if after == "fail" or target is None:
            raise RunFailed(steps.still_requesting(requesting, cycle))
        executor.note(target, steps.remediation_note(requesting, cycle))
        refs = {name: ref for name in requesting if (ref := executor.handoff(name)) is not None}
        self.advance("remediate", cycle, notes=Notes("remediation", refs), rerun=(target,))

    def judge(self) -> tuple[str, ...]:
        """The verdict agents that requested changes; a verdict missing twice fails the run."""
        ledger, agents = self.executor.ledger, self.agents
        decisions = {
            name: self.executor.decision(name)
            for name in self.course.validation_phase
            if name in self.course.verdict_agents and agents[name].status == "done"
        }
        verdicts = steps.judge(decisions, ledger.strikes)
        ledger.strikes = verdicts.strikes
        if verdicts.failed is not None:
            agents[verdicts.failed].fail(steps.MISSING_VERDICT_TWICE)
            self.executor.save()
            raise RunFailed(f"agent failed: {verdicts.failed}: {steps.MISSING_VERDICT_TWICE}")
        return verdicts.requesting
