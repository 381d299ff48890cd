"""The workflows: `FeatureWorkflow` runs one feature; `RateLimiterWorkflow` shares a provider's limits.

`FeatureWorkflow` (id `autodev-<run_id>`) runs the same driver as a local run (`run.driver`):
build, test gate, validation, remediation cycles, finish, with the same decisions. Its executor
(`executor.WorkflowExecutor`) runs each agent as a `run_agent` activity — independent agents are
parallel activities, at most `max_parallel` at once — and the test gate and the finish as
activities too. The plan comes from a `prepare_feature` activity, as the worker sees the repository.

Nothing here does I/O or reads a clock other than `workflow.now()`: the module is imported into
Temporal's sandbox and replayed deterministically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from autodev.core.usage import Usage
    from autodev.engines.temporal import limits
    from autodev.engines.temporal.executor import WorkflowExecutor, cause, run_ref, run_step
    from autodev.engines.temporal.messages import (
        Bucket,
        FeatureInput,
        FeatureOutcome,
        Prepared,
        SlotGrant,
        SlotRequest,
    )
    from autodev.run.driver import Driver
    from autodev.run.state import ChangeType, Gate, HandoffBudget

FEATURE_WORKFLOW = "FeatureWorkflow"
LIMITER_WORKFLOW = "ModelRateLimiter"
LIMITER_GRANTS_PER_RUN = 2_000  # then continue-as-new, far inside the history's limit


def workflow_id(run_id: str) -> str:
    return f"autodev-{run_id}"


def limiter_id(key: str) -> str:
    return f"autodev-rate-limiter-{key}"


@workflow.defn(name=FEATURE_WORKFLOW)
class FeatureWorkflow:
    def __init__(self) -> None:
        self._input: FeatureInput | None = None
        self._run: WorkflowExecutor | None = None
        self._failed: str | None = None  # preparing the feature failed

    # ------------------------------------------------------------------ visibility
    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        """Each agent's state and the feature's stage, for `autodev status` (works while it runs)."""
        inp, run = self._input, self._run
        agents = run.ledger.agents if run else {}
        tracks = run.tracks if run else {}
        stage = "failed" if self._failed else run.current_stage() if run else "starting"
        return {
            "run_id": inp.run_id if inp else None,
            "feature_id": inp.feature_id if inp else None,
            "request": inp.title if inp else None,
            "repo": inp.repo if inp else None,
            "stage": stage,
            "status": "failed" if self._failed else run.status if run else "running",
            "cycle": run.ledger.progress.cycle if run else 0,
            "tip": run.tip if run else (inp.base if inp else ""),
            "error": self._failed or (run.error if run else None),
            "gate": run.gate.status if run else None,
            "agents": {name: agent.status for name, agent in agents.items()},
            "workers": {name: track.worker for name, track in tracks.items() if track.worker},
            "cost_usd": run.cost() if run else 0.0,
        }

    # ------------------------------------------------------------------ the run
    @workflow.run
    async def run(self, inp: FeatureInput) -> FeatureOutcome:
        self._input = inp
        started = workflow.now()
        try:
            prepared = await run_step(
                inp,
                "prepare_feature",
                run_ref(inp, inp.base),
                Prepared,
                activity_id="prepare_feature",
                summary=f"prepare: {inp.title[:80]}",
            )
        except ActivityError as exc:
            self._failed = cause(exc)
            return self._outcome(started, None)
        self._run = WorkflowExecutor(inp, prepared)
        await Driver(prepared.course, self._run).run()
        return self._outcome(started, self._run)

    def _outcome(self, started: datetime, run: WorkflowExecutor | None) -> FeatureOutcome:
        inp = self._input
        assert inp is not None
        finished = run.finished if run else None
        return FeatureOutcome(
            run_id=inp.run_id,
            feature_id=inp.feature_id,
            request=inp.title,
            options=inp.options,
            status=run.status if run else "failed",
            error=run.error if run else self._failed,
            branch=f"autodev/{inp.run_id}",
            base=inp.base,
            commit=finished.commit if finished else None,
            tip=run.tip if run else inp.base,
            agents=run.ledger.agents if run else {},
            tracks=run.tracks if run else {},
            gate=run.gate if run else Gate(),
            change_type=run.change_type if run else ChangeType(),
            checkpoints=run.checkpoints if run else [],
            strikes=run.ledger.strikes if run else {},
            handoff_budget=run.handoff_budget if run else HandoffBudget(),
            cost_usd=run.cost() if run else 0.0,
            usage=run.usage() if run else Usage(),
            warnings=run.warnings if run else [],
            started_at=started.isoformat(),
            ended_at=workflow.now().isoformat(),
            files=finished.files if finished else 0,
            insertions=finished.insertions if finished else 0,
            deletions=finished.deletions if finished else 0,
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
