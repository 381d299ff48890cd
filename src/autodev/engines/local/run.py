"""The local engine: one run in this process, in an isolated worktree — the driver's local executor.

`LocalRun` owns the run's lifecycle: the run directory and its lock, the worktree (made, or on
resume reopened at the newest checkpoint), the state file, the metrics sink and the provider, and
at the end the result (done: the checkpoints squashed into one commit on `autodev/<run_id>`). In
between, `run.driver.Driver` decides what happens; as its executor this class runs each agent with
the agent step, the test gate with the gate step, and saves state.json at every transition, so a
run that was killed, interrupted or failed is picked up by `autodev resume` where it stopped.
Texts are at hand here, so the notes of a rerun are the texts themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio

from autodev.agent.verdicts import parse_verdict
from autodev.config.providers import wrap
from autodev.core import gitops, otel
from autodev.core.locks import FileLock, acquire_run_lock, repo_lock, run_lock_path
from autodev.core.records import read_metrics
from autodev.core.timer import PerformanceTimer, register_sink, unregister_sink
from autodev.engines.local.follow_up import FollowUp
from autodev.engines.local.setup_undo import SetupUndo
from autodev.models import ModelProvider
from autodev.run import steps
from autodev.run.agent_step import warm_tokenizer
from autodev.run.approval import APPROVED, PENDING, REJECTED, ApprovalAnswer, ApprovalRequest, Approver
from autodev.run.checkpoints import commit_result, cut_off_calls, reopen
from autodev.run.cleanup import drop_if_unchanged
from autodev.run.driver import PLAN_AGENT, Course, Driver, GateRun, Notes, RunStopped
from autodev.run.estimate import for_plan
from autodev.run.events import Reporter, RunEvent, silent
from autodev.run.kit import RunKit
from autodev.run.layout import RunPaths, new_run_id
from autodev.run.plan import RunPlan
from autodev.run.plan_selection import plan_edited
from autodev.run.state import AgentState, ChangeType, RunState, RunStatus, cancel_unfinished

STOPS: dict[str, RunStatus] = {  # a `RunStopped`'s status -> the run's
    "budget": "budget",
    "awaiting-approval": "awaiting-approval",
    "rejected": "failed",
}
UNFINISHED = {  # why an agent still pending did not run, by the run's status
    "interrupted": "interrupted; `autodev resume` runs it",
    "budget": "the run stopped at its cost cap; `autodev resume --max-cost` runs it",
    "awaiting-approval": "the run awaits approval; `autodev approve` runs it",
}

DROPPED = "the run changed nothing, so its worktree and branch were removed (`autodev resume` makes them again)"


async def _asked(approver: Approver, request: ApprovalRequest) -> ApprovalAnswer | None:
    """The user's answer, asked in a daemon thread: Ctrl-C at the prompt stops the run at once (a worker
    thread blocked on input would keep the process alive), and end of input is no answer (None)."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[ApprovalAnswer | None] = loop.create_future()

    def settle(answer: ApprovalAnswer | None) -> None:
        if not answered.done():
            answered.set_result(answer)

    def ask() -> None:
        try:
            answer = approver(request)
        except Exception:  # a broken terminal: the run waits for `autodev approve` instead
            answer = None
        loop.call_soon_threadsafe(settle, answer)

    threading.Thread(target=ask, name="autodev-approval", daemon=True).start()
    return await answered


class LocalRun:
    def __init__(
        self,
        plan: RunPlan,
        provider: ModelProvider,
        reporter: Reporter = silent,
        *,
        run_id: str | None = None,
        use_worktree: bool = True,
        resume: RunState | None = None,
        close_provider: bool = True,
        follow_up: FollowUp | None = None,
        approver: Approver | None = None,
    ) -> None:
        """`resume`: the saved state of a stopped run to go on with (its run id, worktree and branch).
        `close_provider=False`: the provider is shared with other runs (a batch), which close it.
        `follow_up`: a done run whose branch this run continues (`autodev run --continue`).
        `approver`: asks the user at an `--approve` point (a terminal); None: the run waits for `autodev approve`."""
        self.close_provider = close_provider
        self.follow_up = follow_up
        self.approver = approver
        self.plan = plan
        if plan.settings.otel:
            otel.enable_tracing()  # before anything is written: a missing package is a usage error
        self.provider = wrap(provider, plan.settings)
        self.report = reporter
        self.run_id = resume.run_id if resume is not None else run_id or new_run_id()
        self.paths = RunPaths.for_run(plan.repo, self.run_id)
        self.use_worktree = use_worktree
        self.resuming = resume is not None
        self.lock = FileLock(run_lock_path(self.paths.run_dir))
        root = self.paths.worktree if use_worktree else plan.repo
        state = resume if resume is not None else self._new_state(root)
        kit = RunKit.open(plan, self.provider, state, self.paths, reporter, use_worktree=use_worktree)
        self.store, self.metrics, self.recorder = kit.store, kit.metrics, kit.recorder
        self.gate, self.agent_step = kit.gate, kit.agents
        self._finished = False
        self._baseline: asyncio.Future[None] | None = None
        self._baseline_scope: anyio.CancelScope | None = None
        self.git_watch: gitops.GitFingerprint | None = None

    def _new_state(self, root: Path) -> RunState:
        plan = self.plan
        state = RunState(
            run_id=self.run_id,
            request=plan.request,
            repo=str(plan.repo),
            worktree=str(root),
            branch=self._branch(),
            base_commit=plan.base_commit,
        )
        state.change_type = ChangeType(plan.selection.change_type, None, list(plan.selection.reasons))
        state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
        state.options = plan.options()
        state.issue = plan.issue
        for name in plan.pipeline.names:
            resolved = plan.models[name]
            state.agents[name] = AgentState(tier=resolved.tier, model=resolved.model_id)
        if self.follow_up is not None:
            self.follow_up.carry_over(state, plan)
        return state

    def _branch(self) -> str:
        """A new run's branch; a follow-up works on the branch of the run it continues."""
        if self.follow_up is not None:
            return self.follow_up.branch
        return f"autodev/{self.run_id}" if self.use_worktree else ""

    # ----------------------------------------------------------------- lifecycle
    def setup(self) -> None:
        """Create (or, resuming, reopen) the run directory and the worktree. The user's checkout is not touched.

        A new run that cannot be set up (a read-only `.autodev`, a full disk) takes back everything it
        made: the run directory, the worktree and its branch, the exclude lines; the user gets one
        line saying what failed, and exit 2.
        """
        undo = None
        if not self.resuming:
            undo = SetupUndo.before(self.plan.repo, self.paths, self.use_worktree, self.store.state.branch)
        try:
            if not self.resuming:
                self.paths.run_dir.mkdir(parents=True, exist_ok=False)  # a run id is never reused
            self.lock = acquire_run_lock(self.paths.run_dir, self.run_id)
            try:
                self.git_watch = gitops.GitFingerprint.of(self.plan.repo)
                self._open_run()
            except BaseException:
                self.lock.release()
                raise
        except (OSError, UnicodeError, gitops.GitError) as exc:
            if undo is None:
                raise
            undo.take_back()
            raise undo.error(exc) from None
        register_sink(self.run_id, self.metrics)  # PerformanceTimer(name, run_id=...) anywhere records here
        warning = self.gate.jail.warning  # every run says it, a resumed one too
        if warning and self.resuming:
            self.recorder.note(None, warning)
        elif warning:
            self.recorder.warn(warning)
        agents = self.store.state.agents
        skipped = {name for name, agent in agents.items() if agent.status == "skipped"}
        warm_tokenizer(self.plan, skipped if self.resuming else set(self.plan.selection.skips))

    def _open_run(self) -> None:
        self.paths.sessions.mkdir(parents=True, exist_ok=True)
        state = self.store.state
        if self.resuming:
            done = reopen(state, self.paths.run_dir, use_worktree=self.use_worktree)
            if done.saved_patch is not None:
                self.recorder.warn(f"unfinished work of the interrupted agent(s) was saved to {done.saved_patch}")
            for name, calls in cut_off_calls(read_metrics(self.paths.metrics_file), done.restarted).items():
                self.recorder.cut_off(name, calls)
            self.store.save()
            return
        with repo_lock(gitops.common_dir(self.plan.repo)):
            gitops.ensure_excludes(self.plan.repo)
            if self.use_worktree and self.follow_up is not None:
                self.follow_up.open_worktree(self.plan.repo, self.paths.worktree)
            elif self.use_worktree:
                gitops.add_worktree(self.plan.repo, self.paths.worktree, state.branch, self.plan.base_commit)
        self.store.save()

    async def run(self) -> RunState:
        state = self.store.state
        agents = {
            name: {"tier": agent.tier, "model": agent.model, "status": agent.status}
            for name, agent in state.agents.items()
        }
        data = {"worktree": state.worktree, "agents": agents, "resumed": self.resuming}
        self.report(RunEvent("run_started", detail=self.run_id, data=data))
        for note in self.plan.settings.ignored_notes():  # repository settings awaiting `autodev trust`
            self.recorder.warn(note)
        for note in self.plan.unused_agent_notes():  # agent files no pipeline runs
            self.recorder.warn(note)
        try:
            if not self.resuming:
                self._record_skips()
            self.agent_step.cap_costs(state.cost_usd or 0.0)
            course = Course.of(self.plan.pipeline, self.plan.settings, approvals=self.plan.approve)
            await Driver(course, self).run()
        except BaseException as exc:  # Ctrl-C, a kill signal turned into one, or a bug: leave a resumable state
            if not self._finished:
                interrupted = isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class())
                state.status = "interrupted" if interrupted else "failed"
                state.error = "interrupted" if interrupted else f"{type(exc).__name__}: {exc}"
                self._finish()
            raise
        finally:
            if self.close_provider:
                with anyio.CancelScope(shield=True):
                    await self.provider.aclose()
        self.report(RunEvent("run_finished", detail=state.status, data={"error": state.error}))
        return state

    def _record_skips(self) -> None:
        for name, reason in self.plan.selection.skips.items():
            if name in self.store.state.agents:
                resolved = self.plan.models[name]
                self.recorder.skipped(name, reason, resolved.tier, resolved.model_id)
        self.store.save()

    def _finish(self) -> None:
        self._finished = True
        unregister_sink(self.run_id)
        state = self.store.state
        cancel_unfinished(state.agents, UNFINISHED.get(state.status))
        changed = self.git_watch.changes() if self.git_watch is not None else []
        if changed:  # no more git in this repository: not even the result's commit
            state.status, state.error = "failed", gitops.config_change_error(changed)
            self.recorder.warn(state.error)
        try:
            if self.use_worktree and not changed:
                commit_result(state, self.paths.worktree)
                if self.follow_up is None and drop_if_unchanged(state):  # a follow-up's branch is its origin's
                    self.recorder.warn(DROPPED)
        finally:
            self.store.save()
            self.metrics.close()
            self.lock.release()

    # ----------------------------------------------------------------- the driver's executor
    @property
    def ledger(self) -> RunState:
        return self.store.state

    def save(self) -> None:
        self.store.save()

    def note(self, agent: str | None, message: str) -> None:
        self.recorder.note(agent, message)

    def blocked(self, name: str, reason: str) -> None:
        self.recorder.blocked(name, reason)

    @contextlib.asynccontextmanager
    async def phase(self, names: Sequence[str], label: str, *, review: bool) -> AsyncIterator[None]:
        if review:
            await self.agent_step.prepare_review(list(names))
        async with PerformanceTimer(label, run_id=self.run_id, sink=self.metrics):
            yield

    async def run_agent(self, name: str, notes: Notes[str] | None) -> bool:
        if self.agent_step.writes(name):
            await self._baseline_taken()  # the baseline needs the worktree exactly at the base commit
        return await self.agent_step.run(name, steps.rerun_notes(notes.kind, notes.refs) if notes else None)

    async def run_gate(self, attempt: int) -> GateRun[str] | None:
        await self._baseline_taken()
        if attempt == 0 and not self.gate.due():
            return None
        judged = await self.gate.once(attempt)
        return GateRun(judged.status, judged.summary(), judged.summary(1500))

    async def baseline(self) -> None:
        """Start the baseline and return: it runs while the read-only agents (researchers, planner) do,
        and the first agent that writes, or the gate, waits for it."""
        if self._baseline is None:
            self._baseline = asyncio.ensure_future(self._take_baseline())

    async def _take_baseline(self) -> None:
        # Stopped through an anyio cancel scope, not asyncio's Task.cancel(): a native cancel goes through
        # the shield around a program's start (`run_process`), lands after the fork, and asyncio then kills
        # the program alone, leaving a jail's init behind (and, once, a resumed run waiting forever).
        with anyio.CancelScope() as scope:
            self._baseline_scope = scope
            await self.gate.baseline()

    async def _baseline_taken(self) -> None:
        if self._baseline is not None:
            await asyncio.shield(self._baseline)

    def decision(self, name: str) -> steps.Decision:
        return parse_verdict(self.store.state.agents[name].handoff or "").decision

    def handoff(self, name: str) -> str | None:
        return self.store.state.agents[name].handoff or ""

    def notes_to_save(self, notes: Notes[str]) -> str | None:
        return steps.remediation_findings(notes.refs) if notes.kind == "remediation" else None

    def saved_notes(self, text: str) -> Notes[str]:
        return Notes("findings", {"findings": text})

    async def approve(self, point: str) -> bool:
        state = self.store.state
        given = state.approvals.get(point)
        if given in (APPROVED, REJECTED):
            return given == APPROVED
        request = self._approval_request(point)
        answer = await _asked(self.approver, request) if self.approver is not None else None
        if answer is None:  # nobody to ask, or no answer (end of input): the run waits for `autodev approve`
            state.approvals[point] = PENDING
            self.store.save()
            raise RunStopped(
                "awaiting-approval",
                f"the {point} awaits approval ({request.cost}): autodev approve {self.run_id} (or --reject)",
            )
        if answer.plan is not None and point == "plan" and PLAN_AGENT in state.agents:
            edited = answer.plan != state.agents[PLAN_AGENT].handoff
            state.agents[PLAN_AGENT].handoff = answer.plan  # what the agents downstream of it read
            if edited and answer.approved:
                plan_edited(self.plan, self.recorder, answer.plan)
        state.approvals[point] = APPROVED if answer.approved else REJECTED
        self.store.save()
        return answer.approved

    def _approval_request(self, point: str) -> ApprovalRequest:
        state = self.store.state
        spent = f"${state.cost_usd:.4f} spent" if state.cost_usd is not None else "cost so far unknown"
        if point == "plan":
            planner = state.agents.get(PLAN_AGENT)
            text = (planner.handoff if planner is not None else None) or "(the planner did not run)"
            rest = [name for name, agent in state.agents.items() if agent.status not in ("done", "skipped")]
            cost = f"{spent}; the rest is estimated at {for_plan(self.plan, rest, exclude_run=self.run_id).describe()}"
        else:
            text = gitops.diff_against(self.paths.worktree, state.base_commit, stat=True) or "(no changes)"
            cost = spent
        return ApprovalRequest(self.run_id, point, text, cost)

    async def finish(self, done: bool, error: str | None, stopped: str | None = None) -> None:
        if self._baseline is not None and not self._baseline.done():
            # a run that ended before any agent wrote: the baseline is not needed
            if self._baseline_scope is not None:
                self._baseline_scope.cancel()
            else:
                self._baseline.cancel()  # it has not started yet: nothing of it runs
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._baseline
        state = self.store.state
        state.status, state.error = ("done", state.error) if done else (STOPS.get(stopped or "", "failed"), error)
        self._finish()
