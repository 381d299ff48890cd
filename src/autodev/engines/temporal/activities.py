"""The activities: each is one step of a run in a fresh worktree of the worker's mirror clone.

`prepare_feature`, `run_agent`, `test_gate` and `finish_feature` share one shape (`worksite`): fetch
the run from its remote, check out the commit the workflow names, build the plan from the
repository's own configuration at that commit, rebuild the little state the step needs from
references (handoffs, notes, test output), and do the step with the same code a local run uses
(`run.agent_step`, `run.gate.step`, `run.checkpoints.commit_result`). Whatever the step produced goes
back to the remote — a checkpoint commit, an artifact commit with the handoff, session log and
metrics — and only SHAs and references go back to the workflow.

A step heartbeats while it runs. If its worker dies, the heartbeat stops, Temporal times the attempt
out and another worker runs the step again from the same commit: the dead attempt's partial work is
simply not on any commit the workflow knows. A failing agent is a result (`status: failed`), not an
activity failure, so Temporal retries only what a retry can fix.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from temporalio import activity
from temporalio.client import Client

from autodev.config.providers import ResilientProvider, wrap
from autodev.config.settings import Settings
from autodev.engines.temporal import transport
from autodev.engines.temporal.cluster import ClusterLimitedProvider, ClusterLimiter
from autodev.engines.temporal.messages import (
    AgentInfo,
    AgentResult,
    AgentTask,
    FinishResult,
    FinishTask,
    GateResult,
    GateTask,
    Prepared,
    RunRef,
    TextRef,
)
from autodev.engines.temporal.publish import publish_agent
from autodev.engines.temporal.settings import TemporalSettings, temporal_settings
from autodev.engines.temporal.worksite import (
    ProviderFactory,
    default_provider,
    load_plan,
    rebuild_state,
    script_queue,
    worksite,
)
from autodev.models import ModelProvider
from autodev.models.resilience import ProviderLimiter, RetryPolicy
from autodev.run import steps
from autodev.run.agent_step import is_reviewing
from autodev.run.checkpoints import commit_result
from autodev.run.driver import Course
from autodev.run.kit import RunKit
from autodev.run.plan import RunPlan
from autodev.run.state import ChangeType
from autodev.run.toolset import configured_tools, tools_for_agent
from autodev.tools.names import WRITING_TOOLS

__all__ = ["FeatureActivities", "ProviderFactory", "default_provider", "script_queue", "worker_identity"]


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class FeatureActivities:
    """The activities of one worker: its working directory, its provider, its share of the cluster limit."""

    def __init__(
        self,
        workdir: Path,
        *,
        client: Client,
        task_queue: str,
        provider_factory: ProviderFactory = default_provider,
        identity: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.client = client
        self.task_queue = task_queue
        self.provider_factory = provider_factory
        self.identity = identity or worker_identity()
        self._limiters: dict[tuple[Any, ...], ClusterLimiter] = {}
        self._local: dict[str, ProviderLimiter] = {}

    def all(self) -> list[Callable[..., Any]]:
        return [self.prepare_feature, self.run_agent, self.test_gate, self.finish_feature]

    # ------------------------------------------------------------------ shared
    async def _plan(self, request: str, worktree: Path, run: RunRef, *, models: bool) -> tuple[RunPlan, ModelProvider]:
        factory = self.provider_factory if models else None
        return await anyio.to_thread.run_sync(lambda: load_plan(request, worktree, run, factory, self.identity))

    def _provider(self, plan: RunPlan, base: ModelProvider, agent: str, ended_runs: int) -> ModelProvider:
        """The step's provider: the cluster-wide limit per attempt, this process's concurrency, retries."""
        settings = plan.settings
        queue = script_queue(base)
        if queue is not None:  # a script replays by position: skip the runs of this agent that already ended
            queue.skip_runs({agent: ended_runs})
        shared = temporal_settings(settings)
        inner: ModelProvider = base
        limiter = self._cluster_limiter(base.name, settings, shared)
        if limiter is not None:
            inner = ClusterLimitedProvider(base, limiter)
        local = self._local.setdefault(base.name, ProviderLimiter(max_concurrent=settings.max_concurrent_requests))
        return ResilientProvider(inner, local, RetryPolicy(max_attempts=settings.max_attempts))

    def _cluster_limiter(self, name: str, settings: Settings, shared: TemporalSettings) -> ClusterLimiter | None:
        rpm, tpm = shared.requests_per_minute, shared.tokens_per_minute
        if not rpm and not tpm:
            return None
        key = (name, settings.base_url or "", rpm, tpm, shared.burst)
        limiter = self._limiters.get(key)
        if limiter is None:
            host = re.sub(r"[^A-Za-z0-9.-]+", "-", settings.base_url or "")[:40]
            limiter = ClusterLimiter(
                self.client, self.task_queue, f"{name}{'-' + host if host else ''}", rpm, tpm, shared.burst
            )
            self._limiters[key] = limiter
        return limiter

    # ------------------------------------------------------------------ the activities
    @activity.defn(name="prepare_feature")
    async def prepare_feature(self, run: RunRef) -> Prepared:
        """The plan as this worker sees it: agents, dependencies, skips, tiers, models, limits."""
        async with worksite(self.workdir, run, "prepare") as site:
            request = await anyio.to_thread.run_sync(site.mirror.read, run.request)
            plan, _ = await self._plan(request, site.worktree, run, models=True)
            tools = configured_tools(plan.settings)
            agents = [
                AgentInfo(
                    name=name,
                    tier=plan.models[name].tier,
                    model=plan.models[name].model_id or "",
                    writes=bool(tools_for_agent(plan.specs[name], plan.settings, tools).keys() & WRITING_TOOLS),
                    skip_reason=plan.selection.skips.get(name),
                )
                for name in plan.pipeline.names
            ]
            return Prepared(
                agents=agents,
                course=Course.of(plan.pipeline, plan.settings),
                change_type=ChangeType(plan.selection.change_type, None, list(plan.selection.reasons)),
                provider=plan.settings.provider or "",
            )

    @activity.defn(name="run_agent")
    async def run_agent(self, task: AgentTask) -> AgentResult:
        """One agent, start to finish, exactly as a local run runs it; its results go to the remote."""
        run, name = task.run, task.name
        async with worksite(self.workdir, run, name) as site:
            texts = await anyio.to_thread.run_sync(read_texts, site.mirror, task)
            plan, base = await self._plan(texts.pop("\0request"), site.worktree, run, models=True)
            state = rebuild_state(plan, run, site.worktree, task.statuses, task.reasons)
            for other, text in texts.items():
                if other in state.agents:
                    state.agents[other].handoff = text
            agent = state.agents[name]
            agent.runs, agent.ended_runs = task.runs, task.ended_runs
            state.strikes = dict(task.strikes)
            state.test_summary = texts.get("\0summary")
            before = {other: a.handoff for other, a in state.agents.items()}
            provider = wrap(self._provider(plan, base, name, task.ended_runs), plan.settings)
            kit = RunKit.open(plan, provider, state, site.paths)
            try:
                if is_reviewing(name, plan):
                    await kit.agents.prepare_review([name])
                ok = await kit.agents.run(name, notes_text(task, texts))
            finally:
                await kit.close()
            checkpoint = state.checkpoint if state.checkpoint not in (None, run.tip) else None
            return await anyio.to_thread.run_sync(
                lambda: publish_agent(site, task, kit, ok, checkpoint, before, self.identity)
            )

    @activity.defn(name="test_gate")
    async def test_gate(self, task: GateTask) -> GateResult:
        """One run of the project's tests at the workflow's tip (the diff re-checked first in a new gate step)."""
        run = task.run
        async with worksite(self.workdir, run, f"gate-{task.attempt}") as site:
            request = await anyio.to_thread.run_sync(site.mirror.read, run.request)
            plan, provider = await self._plan(request, site.worktree, run, models=False)
            state = rebuild_state(plan, run, site.worktree, task.statuses, task.reasons)
            state.gate, state.change_type = task.gate, task.change_type
            kit = RunKit.open(plan, wrap(provider, plan.settings), state, site.paths)
            try:
                due = await anyio.to_thread.run_sync(kit.gate.due) if task.recheck else True
                outcome = await kit.gate.once(task.attempt) if due else None
            finally:
                await kit.close()
            unskipped = {
                name: agent.reason or "the diff needs it"
                for name, agent in state.agents.items()
                if task.statuses.get(name) == "skipped" and agent.status != "skipped"
            }
            result = GateResult(
                ran=outcome is not None,
                passed=bool(outcome and outcome.status == "passed"),
                summary=None,
                short_summary=outcome.summary(1500) if outcome is not None else "",
                gate=state.gate,
                change_type=state.change_type,
                unskipped=unskipped,
                warnings=list(state.warnings),
                status=outcome.status if outcome is not None else "",
            )
            if outcome is not None:
                summary = outcome.summary()
                files: dict[str, str | bytes] = {"summary.txt": summary}
                if site.paths.metrics_file.is_file():
                    files["metrics.jsonl"] = site.paths.metrics_file.read_bytes()
                ref = (
                    f"{transport.run_refs(run.run_id)}gate/{activity.info().activity_id.split('#')[-1]}/{site.attempt}"
                )
                message = f"autodev artifacts: test gate\n\nautodev run {run.run_id}"
                commit = await anyio.to_thread.run_sync(lambda: site.mirror.publish_artifact(ref, files, message))
                result.summary = TextRef(ref=ref, commit=commit, path="summary.txt", size=len(summary.encode("utf-8")))
            return result

    @activity.defn(name="finish_feature")
    async def finish_feature(self, task: FinishTask) -> FinishResult:
        """Done: the checkpoints become one commit on the run's branch. Otherwise the branch keeps them."""
        run = task.run
        async with worksite(self.workdir, run, "finish") as site:
            request = await anyio.to_thread.run_sync(site.mirror.read, run.request)
            plan, _ = await self._plan(request, site.worktree, run, models=False)
            state = rebuild_state(plan, run, site.worktree, {}, {})
            state.status = "done" if task.done else "failed"
            await anyio.to_thread.run_sync(commit_result, state, site.worktree)
            error = state.error if task.done and state.status != "done" else None
            head = state.commit or run.base
            await anyio.to_thread.run_sync(
                lambda: transport.push(site.mirror.path, run.remote, [f"+{head}:{transport.branch_ref(run.run_id)}"])
            )
            diff = state.diff
            return FinishResult(
                commit=state.commit,
                files=diff.files if diff else 0,
                insertions=diff.insertions if diff else 0,
                deletions=diff.deletions if diff else 0,
                error=error,
            )


def read_texts(mirror: transport.Mirror, task: AgentTask) -> dict[str, str]:
    """The texts an agent's task references: handoffs by agent, and the request, summary and notes."""
    texts = {name: mirror.read(ref) for name, ref in task.handoffs.items()}
    texts["\0request"] = mirror.read(task.run.request)
    if task.test_summary is not None:
        texts["\0summary"] = mirror.read(task.test_summary)
    if task.notes is not None:
        for key, ref in task.notes.refs.items():
            texts[f"\0notes:{key}"] = mirror.read(ref)
    return texts


def notes_text(task: AgentTask, texts: dict[str, str]) -> str | None:
    """The rerun's instructions, built from the texts the references name (`run.steps`)."""
    if task.notes is None:
        return None
    named = {key: texts.get(f"\0notes:{key}", "") for key in task.notes.refs}
    return steps.rerun_notes(task.notes.kind, named)
