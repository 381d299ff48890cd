"""The activities: each is one orchestrator step in a fresh worktree of the worker's mirror clone.

`prepare_feature`, `run_agent`, `test_gate` and `finish_feature` share one shape: fetch the run from
its remote, check out the commit the workflow names, build the plan from the repository's own
configuration at that commit, rebuild the little state the step needs from references (handoffs,
notes, test output), and let `Orchestrator.for_step` do exactly what a local run does. Whatever
the step produced goes back to the remote — a checkpoint commit, an artifact commit with the
handoff, session log and metrics — and only SHAs and references go back to the workflow.

A step heartbeats while it runs. If its worker dies, the heartbeat stops, Temporal times the attempt
out and another worker runs the step again from the same commit: the dead attempt's partial work is
simply not on any commit the workflow knows. A failing agent is a result (`status: failed`), not an
activity failure, so Temporal retries only what a retry can fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from autodev.agent.verdicts import parse_verdict
from autodev.config.providers import ResilientProvider, base_provider
from autodev.config.settings import NO_PROVIDER_HINT, Settings, load_settings
from autodev.core.errors import UserError
from autodev.core.records import AgentRecord, of_kind
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
    Tokens,
)
from autodev.engines.temporal.settings import TemporalSettings, temporal_settings
from autodev.models import Model, ModelProvider, ModelRequest, ModelResponse, Usage
from autodev.models.fakes.scripted import ScriptQueue
from autodev.models.registry import replay_queue
from autodev.models.resilience import ProviderLimiter, RetryPolicy
from autodev.run import steps
from autodev.run.orchestrator import Orchestrator, RunPaths
from autodev.run.plan import RunPlan, overrides_from_options, prepare
from autodev.run.state import AgentState, RunState
from autodev.run.toolset import configured_tools, tools_for_agent
from autodev.tools.names import WRITING_TOOLS

ProviderFactory = Callable[[Settings], ModelProvider]
_ATTEMPT = re.compile(r"/(\d+)$")


def default_provider(settings: Settings) -> ModelProvider:
    """The provider the repository's configuration and the worker's environment (its API keys) name."""
    return base_provider(settings)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def script_queue(provider: object) -> ScriptQueue | None:
    """The reply queue of a scripted provider, however it is wrapped (`inner` attributes)."""
    return replay_queue(provider)


class _NoModels:
    """The provider of steps that call no model (the test gate, finishing)."""

    name = "none"
    web_search = False

    def model(self, model_id: str) -> Model:
        return _NoModel(model_id)


@dataclass
class _NoModel:
    model_id: str
    provider: str = "none"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise AssertionError("this step calls no model")


@dataclass
class _Step:
    mirror: transport.Mirror
    worktree: Path
    run_dir: Path
    attempt: int

    @property
    def paths(self) -> RunPaths:
        run_dir = self.run_dir
        return RunPaths(
            run_dir=run_dir,
            worktree=self.worktree,
            state_file=run_dir / "state.json",
            metrics_file=run_dir / "metrics.jsonl",
            cache_file=run_dir / "cache.jsonl",
            sessions=run_dir / "sessions",
        )


def _user_errors(error: UserError) -> ApplicationError:
    """A configuration problem no retry can fix: fail the step at once, with the message the user needs."""
    message = error.message + (f" ({error.hint})" if error.hint else "")
    return ApplicationError(message, type="UserError", non_retryable=True)


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
    @contextlib.asynccontextmanager
    async def _step(self, run: RunRef, label: str) -> AsyncIterator[_Step]:
        """Heartbeats, then the run fetched and checked out at `run.tip`; everything removed afterwards."""
        attempt = activity.info().attempt

        async def beat() -> None:
            while True:
                activity.heartbeat(label)
                await asyncio.sleep(run.heartbeat_s)

        beating = asyncio.create_task(beat())
        mirror = transport.Mirror(self.workdir, run.remote)
        tag = f"{run.run_id}/{label}-a{attempt}-{secrets.token_hex(3)}"
        run_dir = self.workdir / "runs" / tag
        worktree: Path | None = None
        try:
            await anyio.to_thread.run_sync(mirror.fetch_run, run.run_id)
            worktree = await anyio.to_thread.run_sync(mirror.add_worktree, run.tip, tag)
            yield _Step(mirror, worktree, run_dir, attempt)
        except UserError as exc:
            raise _user_errors(exc) from exc
        finally:
            beating.cancel()
            with anyio.CancelScope(shield=True):
                if worktree is not None:
                    await anyio.to_thread.run_sync(mirror.remove_worktree, worktree)
                shutil.rmtree(run_dir, ignore_errors=True)

    def _plan(self, request: str, worktree: Path, run: RunRef, *, models: bool) -> tuple[RunPlan, ModelProvider]:
        cli, selection = overrides_from_options(run.options)
        provider: ModelProvider = _NoModels()
        web = None
        if models:
            provider = self.provider_factory(load_settings(worktree, cli))
            web = provider.web_search
        plan = dataclasses.replace(
            prepare(request, worktree, cli, selection=selection, web_search=web), base_commit=run.base
        )
        if models:
            unserved = [name for name, resolved in plan.models.items() if resolved.model_id is None]
            if unserved:
                raise UserError(f"no model provider is configured on worker {self.identity}", hint=NO_PROVIDER_HINT)
        return plan, provider

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

    def _state(
        self, plan: RunPlan, run: RunRef, worktree: Path, statuses: dict[str, str], reasons: dict[str, str]
    ) -> RunState:
        state = RunState(
            run_id=run.run_id,
            request=plan.request,
            repo=str(worktree),
            worktree=str(worktree),
            branch=f"autodev/{run.run_id}",
            base_commit=run.base,
        )
        state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
        state.options = dict(run.options)
        state.checkpoint = run.tip if run.tip != run.base else None
        for name in plan.pipeline.names:
            resolved = plan.models[name]
            status = statuses.get(name, "pending")
            state.agents[name] = AgentState(
                status=status,  # type: ignore[arg-type]
                reason=reasons.get(name),
                tier=resolved.tier,
                model=resolved.model_id,
            )
        return state

    # ------------------------------------------------------------------ the activities
    @activity.defn(name="prepare_feature")
    async def prepare_feature(self, run: RunRef) -> Prepared:
        """The plan as this worker sees it: agents, dependencies, skips, tiers, models, limits."""
        async with self._step(run, "prepare") as step:
            request = await anyio.to_thread.run_sync(step.mirror.read, run.request)
            plan, _ = await anyio.to_thread.run_sync(lambda: self._plan(request, step.worktree, run, models=True))
            tools = configured_tools(plan.settings)
            pipeline = plan.pipeline
            agents = [
                AgentInfo(
                    name=node.agent,
                    needs=list(node.needs),
                    tier=plan.models[node.agent].tier,
                    model=plan.models[node.agent].model_id or "",
                    writes=bool(tools_for_agent(plan.specs[node.agent], plan.settings, tools).keys() & WRITING_TOOLS),
                    skip_reason=plan.selection.skips.get(node.agent),
                )
                for node in pipeline.nodes
            ]
            return Prepared(
                agents=agents,
                build_phase=list(pipeline.build_phase()),
                validation_phase=list(pipeline.validation_phase()),
                gate_after=pipeline.gate_after,
                verdict_agents=sorted(pipeline.verdict_agents),
                remediation_target=pipeline.remediation_target,
                max_parallel=plan.settings.max_parallel,
                max_test_retries=plan.settings.max_test_retries,
                max_remediation_cycles=plan.settings.max_remediation_cycles,
                change_type={
                    "before": plan.selection.change_type,
                    "after": None,
                    "reasons": list(plan.selection.reasons),
                },
                provider=plan.settings.provider or "",
            )

    @activity.defn(name="run_agent")
    async def run_agent(self, task: AgentTask) -> AgentResult:
        """One agent, start to finish, exactly as a local run runs it; its results go to the remote."""
        run, name = task.run, task.name
        async with self._step(run, name) as step:
            texts = await anyio.to_thread.run_sync(self._texts, step.mirror, task)
            request = texts.pop("\0request")
            plan, base = await anyio.to_thread.run_sync(lambda: self._plan(request, step.worktree, run, models=True))
            state = self._state(plan, run, step.worktree, task.statuses, task.reasons)
            for other, text in texts.items():
                if other in state.agents:
                    state.agents[other].handoff = text
            agent = state.agents[name]
            agent.runs, agent.ended_runs = task.runs, task.ended_runs
            state.strikes = dict(task.strikes)
            state.test_summary = texts.get("\0summary")
            before = {other: a.handoff for other, a in state.agents.items()}
            provider = self._provider(plan, base, name, task.ended_runs)
            orchestrator = Orchestrator.for_step(plan, provider, state, step.paths)
            try:
                ok = await orchestrator.run_agent_step(name, self._notes(task, texts))
            finally:
                await orchestrator.close_step()
            checkpoint = state.checkpoint if state.checkpoint not in (None, run.tip) else None
            return await anyio.to_thread.run_sync(
                lambda: self._publish_agent(step, task, orchestrator, ok, checkpoint, before)
            )

    def _texts(self, mirror: transport.Mirror, task: AgentTask) -> dict[str, str]:
        texts = {name: mirror.read(ref) for name, ref in task.handoffs.items()}
        texts["\0request"] = mirror.read(task.run.request)
        if task.test_summary is not None:
            texts["\0summary"] = mirror.read(task.test_summary)
        if task.notes is not None:
            for key, ref in task.notes.refs.items():
                texts[f"\0notes:{key}"] = mirror.read(ref)
        return texts

    def _notes(self, task: AgentTask, texts: dict[str, str]) -> str | None:
        """The rerun's instructions, built from the texts the references name (`pipeline.steps`)."""
        notes = task.notes
        if notes is None:
            return None
        if notes.kind == "gate":
            return steps.gate_fix_task(texts.get("\0notes:summary", ""))
        by_agent = {agent: steps.findings(texts[f"\0notes:{agent}"]) for agent in notes.refs}
        return steps.remediation_task(steps.findings_notes(by_agent))

    def _publish_agent(
        self,
        step: _Step,
        task: AgentTask,
        orchestrator: Orchestrator,
        ok: bool,
        checkpoint: str | None,
        before: dict[str, str | None],
    ) -> AgentResult:
        run, name = task.run, task.name
        state = orchestrator.store.state
        agent = state.agents[name]
        number = task.runs + 1
        prefix = transport.run_refs(run.run_id)
        files: dict[str, str | bytes] = {}
        if ok:
            files["handoff.md"] = agent.handoff or ""
        compacted_names = [
            other
            for other, text in before.items()
            if other != name and text is not None and state.agents[other].handoff != text
        ]
        for other in compacted_names:
            files[f"handoff-{other}.md"] = state.agents[other].handoff or ""
        session = step.paths.sessions / f"{name}.md"
        if session.is_file():
            files["session.md"] = session.read_bytes()
        if step.paths.metrics_file.is_file():
            files["metrics.jsonl"] = step.paths.metrics_file.read_bytes()
        artifact_ref = f"{prefix}agents/{name}/{number}/{step.attempt}"
        message = f"autodev artifacts: {name} (run {number}, attempt {step.attempt})\n\nautodev run {run.run_id}"
        commit = transport.make_artifact(step.mirror.path, files, message)
        refspecs = [f"{commit}:{artifact_ref}"]
        checkpoint_ref = f"{prefix}checkpoints/{name}/{number}/{step.attempt}"
        if checkpoint is not None:
            refspecs.append(f"{checkpoint}:{checkpoint_ref}")
        transport.push(step.mirror.path, run.remote, refspecs)
        if checkpoint is not None:
            self._advance_branch(step, run, name, number, checkpoint)

        def ref(path: str) -> TextRef:
            size = len(files[path]) if isinstance(files[path], bytes) else len(str(files[path]).encode("utf-8"))
            return TextRef(ref=artifact_ref, commit=commit, path=path, size=size)

        records = of_kind(orchestrator.metrics.written, AgentRecord)
        record = next((r for r in reversed(records) if r.agent == name), None)
        usage = record.usage if record else Usage()
        decision = None
        if ok and name in orchestrator.plan.pipeline.verdict_agents:
            decision = parse_verdict(agent.handoff or "").decision
        return AgentResult(
            name=name,
            status=agent.status,
            error=agent.error,
            model=agent.model,
            started_at=agent.started_at,
            ended_at=agent.ended_at,
            checkpoint=checkpoint,
            handoff=ref("handoff.md") if ok else None,
            handoff_tokens=record.handoff_tokens if record else 0,
            decision=decision,
            compacted={other: ref(f"handoff-{other}.md") for other in compacted_names},
            handoff_budget=dict(state.handoff_budget),
            tokens=Tokens(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
            ),
            cost_usd=record.cost_usd if record else None,
            turns=record.turns if record else 0,
            artifacts=artifact_ref,
            worker=self.identity,
            warnings=list(state.warnings),
        )

    def _advance_branch(self, step: _Step, run: RunRef, name: str, number: int, checkpoint: str) -> None:
        mirror = step.mirror
        if mirror.advance_branch(run.run_id, checkpoint, run.tip, set()):
            return
        pattern = f"{transport.run_refs(run.run_id)}checkpoints/{name}/{number}/*"
        earlier = set()
        for ref_name, sha in transport.remote_refs(mirror.path, run.remote, pattern).items():
            found = _ATTEMPT.search(ref_name)
            if found and int(found.group(1)) < step.attempt:
                earlier.add(sha)
        if earlier:
            mirror.advance_branch(run.run_id, checkpoint, run.tip, earlier)

    @activity.defn(name="test_gate")
    async def test_gate(self, task: GateTask) -> GateResult:
        """One run of the project's tests at the workflow's tip (the diff re-checked first in a new gate step)."""
        run = task.run
        async with self._step(run, f"gate-{task.attempt}") as step:
            request = await anyio.to_thread.run_sync(step.mirror.read, run.request)
            plan, provider = await anyio.to_thread.run_sync(
                lambda: self._plan(request, step.worktree, run, models=False)
            )
            state = self._state(plan, run, step.worktree, task.statuses, task.reasons)
            state.gate, state.change_type = dict(task.gate), dict(task.change_type)
            orchestrator = Orchestrator.for_step(plan, provider, state, step.paths)
            try:
                due = await anyio.to_thread.run_sync(orchestrator.gate_due) if task.recheck else True
                outcome = await orchestrator.gate_once(task.attempt) if due else None
            finally:
                await orchestrator.close_step()
            unskipped = {
                name: agent.reason or "the diff needs it"
                for name, agent in state.agents.items()
                if task.statuses.get(name) == "skipped" and agent.status != "skipped"
            }
            result = GateResult(
                ran=outcome is not None,
                passed=bool(outcome and outcome.passed),
                summary=None,
                short_summary=outcome.summary(1500) if outcome is not None else "",
                gate=dict(state.gate),
                change_type=dict(state.change_type),
                unskipped=unskipped,
                warnings=list(state.warnings),
            )
            if outcome is not None:
                summary = outcome.summary()
                files: dict[str, str | bytes] = {"summary.txt": summary}
                if step.paths.metrics_file.is_file():
                    files["metrics.jsonl"] = step.paths.metrics_file.read_bytes()
                ref = (
                    f"{transport.run_refs(run.run_id)}gate/{activity.info().activity_id.split('#')[-1]}/{step.attempt}"
                )
                message = f"autodev artifacts: test gate\n\nautodev run {run.run_id}"
                commit = await anyio.to_thread.run_sync(lambda: step.mirror.publish_artifact(ref, files, message))
                result.summary = TextRef(ref=ref, commit=commit, path="summary.txt", size=len(summary.encode("utf-8")))
            return result

    @activity.defn(name="finish_feature")
    async def finish_feature(self, task: FinishTask) -> FinishResult:
        """Done: the checkpoints become one commit on the run's branch. Otherwise the branch keeps them."""
        run = task.run
        async with self._step(run, "finish") as step:
            request = await anyio.to_thread.run_sync(step.mirror.read, run.request)
            plan, provider = await anyio.to_thread.run_sync(
                lambda: self._plan(request, step.worktree, run, models=False)
            )
            state = self._state(plan, run, step.worktree, {}, {})
            state.status = "done" if task.done else "failed"
            orchestrator = Orchestrator.for_step(plan, provider, state, step.paths)
            try:
                await anyio.to_thread.run_sync(orchestrator.finish_step)
            finally:
                await orchestrator.close_step()
            error = state.error if task.done and state.status != "done" else None
            head = state.commit or run.base
            await anyio.to_thread.run_sync(
                lambda: transport.push(step.mirror.path, run.remote, [f"+{head}:{transport.branch_ref(run.run_id)}"])
            )
            diff = state.diff or {}
            return FinishResult(
                commit=state.commit,
                files=int(diff.get("files", 0)),
                insertions=int(diff.get("insertions", 0)),
                deletions=int(diff.get("deletions", 0)),
                error=error,
            )
