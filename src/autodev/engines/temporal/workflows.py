"""The workflows: `FeatureWorkflow` runs one feature; `RateLimiterWorkflow` shares a provider's limits.

`FeatureWorkflow` (id `autodev-<run_id>`) walks the same steps as the local orchestrator — build,
test gate, validation, remediation cycles, finish — with the decisions taken by the same pure
functions (`pipeline.steps`, the pipeline's phases and dependencies), and runs each agent as a
`run_agent` activity: independent agents are parallel activities, at most `max_parallel` at once.
What an agent produced is recorded in the workflow's state the moment its activity returns, so a
finished agent is never scheduled again: not when a worker dies (the activity that was running is
retried elsewhere, from the checkpoint the workflow recorded), and not when the workflow itself is
replayed on another worker. Writing agents take turns (one at a time per feature), so every
checkpoint builds on the one before and the workflow's `tip` is the run's one line of history.

Nothing here does I/O or reads a clock other than `workflow.now()`: the module is imported into
Temporal's sandbox and replayed deterministically. Activities are called by name, so this module does
not import them (or git, or the orchestrator).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from autodev.engines.temporal import limits
    from autodev.engines.temporal.messages import (
        AgentInfo,
        AgentResult,
        AgentTask,
        AgentView,
        Bucket,
        FeatureInput,
        FeatureOutcome,
        FinishResult,
        FinishTask,
        GateResult,
        GateTask,
        Notes,
        Prepared,
        RunRef,
        SlotGrant,
        SlotRequest,
        TextRef,
        Tokens,
    )
    from autodev.run import steps

FEATURE_WORKFLOW = "FeatureWorkflow"
LIMITER_WORKFLOW = "ModelRateLimiter"
AGENT_TIMEOUT = timedelta(hours=6)  # one agent run, its rate-limit waits included
STEP_TIMEOUT = timedelta(hours=2)  # preparing, a test run, finishing
ATTEMPTS = 6  # per step: retries cover workers that die or lose the server, not agents that fail
NON_RETRYABLE = ["UserError", "PipelineError"]
LIMITER_GRANTS_PER_RUN = 2_000  # then continue-as-new, far inside the history's limit


def workflow_id(run_id: str) -> str:
    return f"autodev-{run_id}"


def limiter_id(key: str) -> str:
    return f"autodev-rate-limiter-{key}"


class FeatureFailed(Exception):
    """Ends the feature early; the message becomes the outcome's `error` (as RunFailed does locally)."""


def _cause(error: BaseException) -> str:
    """The innermost message of an activity failure (the worker's error, not Temporal's wrapper)."""
    while error.__cause__ is not None:
        error = error.__cause__
    message = error.message if isinstance(error, ApplicationError) else str(error)
    return message[:4000]


@workflow.defn(name=FEATURE_WORKFLOW)
class FeatureWorkflow:
    def __init__(self) -> None:
        self._input: FeatureInput | None = None
        self._prepared: Prepared | None = None
        self._info: dict[str, AgentInfo] = {}
        self._agents: dict[str, AgentView] = {}
        self._stage = "starting"
        self._status = "running"
        self._error: str | None = None
        self._tip = ""
        self._cycle = 0
        self._gate: dict[str, Any] = {}
        self._change_type: dict[str, Any] = {}
        self._strikes: dict[str, int] = {}
        self._decisions: dict[str, str | None] = {}
        self._checkpoints: list[dict[str, Any]] = []
        self._test_summary: TextRef | None = None
        self._handoff_budget: dict[str, Any] = {}
        self._warnings: list[str] = []
        self._gate_runs = 0
        self._writer = asyncio.Lock()

    # ------------------------------------------------------------------ visibility
    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        """Each agent's state and the feature's stage, for `autodev status` (works while it runs)."""
        inp = self._input
        return {
            "run_id": inp.run_id if inp else None,
            "feature_id": inp.feature_id if inp else None,
            "request": inp.title if inp else None,
            "repo": inp.repo if inp else None,
            "stage": self._stage,
            "status": self._status,
            "cycle": self._cycle,
            "tip": self._tip,
            "error": self._error,
            "gate": self._gate.get("status"),
            "agents": {name: view.status for name, view in self._agents.items()},
            "workers": {name: view.worker for name, view in self._agents.items() if view.worker},
            "cost_usd": self._cost(),
        }

    def _cost(self) -> float | None:
        total = 0.0
        for view in self._agents.values():
            if view.cost_usd is None:
                return None
            total += view.cost_usd
        return total

    # ------------------------------------------------------------------ the run
    @workflow.run
    async def run(self, inp: FeatureInput) -> FeatureOutcome:
        self._input = inp
        self._tip = inp.base
        started = workflow.now()
        try:
            prepared = await workflow.execute_activity(
                "prepare_feature",
                self._ref(inp.base),
                result_type=Prepared,
                activity_id="prepare_feature",
                summary=f"prepare: {inp.title[:80]}",
                **self._step_options(),
            )
        except ActivityError as exc:
            self._status, self._error, self._stage = "failed", _cause(exc), "failed"
            return self._outcome(started, None)
        self._setup(prepared)
        try:
            await self._drive()
            self._status = "done"
        except FeatureFailed as exc:
            self._status, self._error = "failed", str(exc)
        for view in self._agents.values():
            if view.status in ("pending", "running"):
                view.status, view.reason = "cancelled", view.reason or "the run ended before this agent ran"
        self._stage = "finish"
        finish = FinishResult(commit=None)
        try:
            finish = await workflow.execute_activity(
                "finish_feature",
                FinishTask(self._ref(self._tip), done=self._status == "done"),
                result_type=FinishResult,
                activity_id="finish_feature",
                summary="finish: squash the checkpoints" if self._status == "done" else "finish: keep the checkpoints",
                **self._step_options(),
            )
        except ActivityError as exc:
            finish.error = _cause(exc)
        if finish.error:
            self._status = "failed"
            self._error = (self._error + "; " if self._error else "") + f"could not commit the result: {finish.error}"
        self._stage = self._status
        return self._outcome(started, finish)

    def _setup(self, prepared: Prepared) -> None:
        self._prepared = prepared
        self._change_type = dict(prepared.change_type)
        for info in prepared.agents:
            self._info[info.name] = info
            self._agents[info.name] = AgentView(
                status="skipped" if info.skip_reason is not None else "pending",
                reason=info.skip_reason,
                tier=info.tier,
                model=info.model,
            )

    async def _drive(self) -> None:
        prepared = self._prepared
        assert prepared is not None
        self._stage = "build"
        await self._run_phase(prepared.build_phase)
        validation = prepared.validation_phase
        cycle = 0
        while True:
            self._cycle = cycle
            self._stage = "gate" if cycle == 0 else f"gate (cycle {cycle})"
            await self._test_gate()
            if not validation:
                return
            for name in validation:
                view = self._agents[name]
                if view.status != "skipped":
                    view.status, view.reason, view.error = "pending", None, None
            self._stage = "validate" if cycle == 0 else f"validate (cycle {cycle})"
            await self._run_phase(validation)
            decisions: dict[str, steps.Decision] = {
                name: self._decision(name)
                for name in validation
                if name in prepared.verdict_agents and self._agents[name].status == "done"
            }
            verdicts = steps.judge(decisions, self._strikes)
            self._strikes = verdicts.strikes
            if verdicts.failed is not None:
                view = self._agents[verdicts.failed]
                view.status, view.error = "failed", steps.MISSING_VERDICT_TWICE
                raise FeatureFailed(f"agent failed: {verdicts.failed}: {view.error}")
            target = prepared.remediation_target
            after = steps.after_validation(verdicts.requesting, cycle, prepared.max_remediation_cycles, target)
            if after == "finish":
                return
            if after == "fail" or target is None:
                raise FeatureFailed(steps.still_requesting(verdicts.requesting, cycle))
            self._note(steps.remediation_note(verdicts.requesting, cycle))
            self._stage = f"remediate (cycle {cycle + 1})"
            refs = {name: ref for name in verdicts.requesting if (ref := self._agents[name].handoff) is not None}
            await self._rerun(target, Notes("remediation", refs))
            cycle += 1

    def _decision(self, name: str) -> steps.Decision:
        decision = self._decisions.get(name)
        return decision if decision in ("APPROVE", "REQUEST_CHANGES") else None  # type: ignore[return-value]

    def _note(self, message: str) -> None:
        if message not in self._warnings:
            self._warnings.append(message)

    async def _run_phase(self, names: list[str]) -> None:
        """Each agent as soon as its dependencies in `names` finished, at most `max_parallel` at once."""
        prepared = self._prepared
        assert prepared is not None
        finished = {name: asyncio.Event() for name in names}
        succeeded: dict[str, bool] = {}
        slots = asyncio.Semaphore(prepared.max_parallel)

        async def node(name: str) -> None:
            try:
                needs = [dep for dep in self._info[name].needs if dep in finished]
                for dep in needs:
                    await finished[dep].wait()
                failed = [dep for dep in needs if not succeeded[dep]]
                view = self._agents[name]
                if failed:
                    view.status, view.reason = "cancelled", f"not run: {', '.join(failed)} did not finish"
                    succeeded[name] = False
                elif view.status in ("skipped", "done"):
                    succeeded[name] = True
                else:
                    async with slots:
                        succeeded[name] = await self._run_agent(name, None)
            finally:
                succeeded.setdefault(name, False)
                finished[name].set()

        await asyncio.gather(*(node(name) for name in names))
        failed = [name for name in names if self._agents[name].status == "failed"]
        if failed:
            raise FeatureFailed("agent failed: " + "; ".join(f"{n}: {self._agents[n].error}" for n in failed))

    async def _rerun(self, name: str, notes: Notes) -> None:
        if not await self._run_agent(name, notes):
            raise FeatureFailed(f"agent failed: {name}: {self._agents[name].error}")

    @contextlib.asynccontextmanager
    async def _turn(self, writes: bool) -> AsyncIterator[None]:
        """Writers take turns, so each starts from the checkpoint of the one before."""
        if not writes:
            yield
            return
        async with self._writer:
            yield

    async def _run_agent(self, name: str, notes: Notes | None) -> bool:
        view = self._agents[name]
        async with self._turn(self._info[name].writes):
            tip = self._tip
            view.status, view.error, view.reason = "running", None, None
            view.started_at, view.ended_at = workflow.now().isoformat(), None
            run = view.runs + 1
            task = AgentTask(
                run=self._ref(tip),
                name=name,
                runs=view.runs,
                ended_runs=view.ended_runs,
                statuses=self._statuses(),
                reasons=self._skip_reasons(),
                handoffs={n: v.handoff for n, v in self._agents.items() if v.handoff is not None},
                strikes=dict(self._strikes),
                test_summary=self._test_summary,
                notes=notes,
            )
            try:
                result: AgentResult = await workflow.execute_activity(
                    "run_agent",
                    task,
                    result_type=AgentResult,
                    activity_id=f"{name}#{run}",
                    summary=f"{name} (run {run})" + (f", {notes.kind} notes" if notes else ""),
                    start_to_close_timeout=AGENT_TIMEOUT,
                    heartbeat_timeout=self._heartbeat(),
                    retry_policy=self._retry(),
                )
            except ActivityError as exc:
                view.runs = run
                view.status, view.error, view.ended_at = "failed", _cause(exc), workflow.now().isoformat()
                return False
            self._apply(result, run)
        return result.status == "done"

    def _apply(self, result: AgentResult, run: int) -> None:
        view = self._agents[result.name]
        view.runs, view.ended_runs = run, view.ended_runs + 1
        view.status, view.error = result.status, result.error
        view.model = result.model or view.model
        view.started_at, view.ended_at = result.started_at or view.started_at, result.ended_at
        view.turns += result.turns
        view.tokens.add(result.tokens)
        view.cost_usd = None if view.cost_usd is None or result.cost_usd is None else view.cost_usd + result.cost_usd
        view.worker = result.worker
        view.artifacts.append(result.artifacts)
        if result.status == "done":
            view.handoff = result.handoff
            self._decisions[result.name] = result.decision
        for other, ref in result.compacted.items():
            self._agents[other].handoff = ref
        if result.handoff_budget:
            compacted = {**self._handoff_budget.get("compacted", {}), **result.handoff_budget.get("compacted", {})}
            self._handoff_budget = {**result.handoff_budget, "compacted": compacted}
        if result.checkpoint:
            self._tip = view.checkpoint = result.checkpoint
            when = result.ended_at or workflow.now().isoformat()
            self._checkpoints.append({"agent": result.name, "run": run, "commit": result.checkpoint, "at": when})
        for warning in result.warnings:
            self._note(warning)

    async def _test_gate(self) -> None:
        prepared = self._prepared
        assert prepared is not None
        gate_agent = prepared.gate_after
        if gate_agent is None:
            return
        retries = prepared.max_test_retries
        for attempt in range(retries + 1):
            self._gate_runs += 1
            result = await self._gate_once(attempt)
            for name, why in result.unskipped.items():
                view = self._agents[name]
                view.status, view.reason = "pending", why
                self._note(why)
            self._gate, self._change_type = result.gate, result.change_type
            for warning in result.warnings:
                self._note(warning)
            if not result.ran:
                return
            self._test_summary = result.summary
            if result.passed:
                return
            if attempt == retries:
                raise FeatureFailed(steps.gate_exhausted(retries, gate_agent, result.short_summary))
            refs = {"summary": result.summary} if result.summary is not None else {}
            await self._rerun(gate_agent, Notes("gate", refs))

    async def _gate_once(self, attempt: int) -> GateResult:
        task = GateTask(
            run=self._ref(self._tip),
            attempt=attempt,
            recheck=attempt == 0,
            statuses=self._statuses(),
            reasons=self._skip_reasons(),
            gate=dict(self._gate),
            change_type=dict(self._change_type),
        )
        try:
            result: GateResult = await workflow.execute_activity(
                "test_gate",
                task,
                result_type=GateResult,
                activity_id=f"test_gate#{self._gate_runs}",
                summary=f"test gate (cycle {self._cycle}, attempt {attempt + 1})",
                **self._step_options(),
            )
        except ActivityError as exc:
            raise FeatureFailed(f"the test gate could not run: {_cause(exc)}") from None
        return result

    # ------------------------------------------------------------------ helpers
    def _statuses(self) -> dict[str, str]:
        return {name: view.status for name, view in self._agents.items()}

    def _skip_reasons(self) -> dict[str, str]:
        return {name: v.reason for name, v in self._agents.items() if v.status == "skipped" and v.reason}

    def _ref(self, tip: str) -> RunRef:
        inp = self._input
        assert inp is not None
        return RunRef(
            run_id=inp.run_id,
            remote=inp.remote,
            base=inp.base,
            tip=tip,
            request=inp.request,
            options=inp.options,
            heartbeat_s=max(0.2, inp.heartbeat_timeout_s / 3),
        )

    def _heartbeat(self) -> timedelta:
        assert self._input is not None
        return timedelta(seconds=self._input.heartbeat_timeout_s)

    def _retry(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=30),
            maximum_attempts=ATTEMPTS,
            non_retryable_error_types=NON_RETRYABLE,
        )

    def _step_options(self) -> dict[str, Any]:
        return {
            "start_to_close_timeout": STEP_TIMEOUT,
            "heartbeat_timeout": self._heartbeat(),
            "retry_policy": self._retry(),
        }

    def _outcome(self, started: datetime, finish: FinishResult | None) -> FeatureOutcome:
        inp = self._input
        assert inp is not None
        tokens = Tokens()
        for view in self._agents.values():
            tokens.add(view.tokens)
        return FeatureOutcome(
            run_id=inp.run_id,
            feature_id=inp.feature_id,
            request=inp.title,
            options=inp.options,
            status=self._status,
            error=self._error,
            branch=f"autodev/{inp.run_id}",
            base=inp.base,
            commit=finish.commit if finish is not None else None,
            tip=self._tip,
            agents=self._agents,
            gate=self._gate,
            change_type=self._change_type,
            checkpoints=self._checkpoints,
            strikes=self._strikes,
            handoff_budget=self._handoff_budget,
            cost_usd=self._cost(),
            tokens=tokens,
            warnings=self._warnings,
            started_at=started.isoformat(),
            ended_at=workflow.now().isoformat(),
            files=finish.files if finish is not None else 0,
            insertions=finish.insertions if finish is not None else 0,
            deletions=finish.deletions if finish is not None else 0,
        )


@workflow.defn(name=LIMITER_WORKFLOW)
class RateLimiterWorkflow:
    """One per provider: hands out model-call slots to every worker of the cluster (`limits.grant`)."""

    def __init__(self) -> None:
        self._bucket = Bucket()
        self._granted = 0

    @workflow.run
    async def run(self, carried: Bucket | None) -> None:
        if carried is not None:
            self._bucket = carried
        await workflow.wait_condition(lambda: self._granted >= LIMITER_GRANTS_PER_RUN)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._bucket)

    @workflow.update(name="acquire")
    def acquire(self, request: SlotRequest) -> SlotGrant:
        self._granted += 1
        now = workflow.now().timestamp()
        wait = limits.grant(self._bucket, now, request)
        return SlotGrant(wait_s=wait, granted=self._granted, at=now + wait)

    @workflow.signal(name="pause")
    def pause(self, seconds: float) -> None:
        limits.pause(self._bucket, workflow.now().timestamp(), seconds)
