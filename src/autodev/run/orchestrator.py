"""The orchestrator: runs a prepared plan in an isolated worktree, phase by phase, and records it all.

Phases: the build phase (research in parallel, then plan, tests, implementation), the test gate
(the orchestrator itself runs the project's tests; failures go back to the implementer), then the
validation phase in parallel, with at most `max_remediation_cycles` rounds of REQUEST_CHANGES sent
back to the implementer. The run's change ends as one commit on `autodev/<run_id>`.

The run is a small state machine (`Step`) whose position is saved in state.json with every
transition, and each writing agent's work is a checkpoint commit (`pipeline.checkpoints`). A run
that was killed, interrupted or failed is picked up by `autodev resume`: agents that finished keep
their handoffs and are not run again, the step it was in starts over from the newest checkpoint.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio

from autodev.agent import analysers, prompts
from autodev.agent.context.counting import count_tokens
from autodev.agent.context.handoffs import fit_handoffs
from autodev.agent.context.retrieval import build_context
from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.skills import SkillTool, with_skills
from autodev.agent.specs import WEB_TOOLS, AgentSpec
from autodev.agent.verdicts import parse_verdict
from autodev.config.providers import wrap
from autodev.core import gitops, otel
from autodev.core.clock import iso, utc_now
from autodev.core.locks import FileLock, acquire_run_lock, repo_lock, run_lock_path
from autodev.core.metrics import MetricsSink, agent_record
from autodev.core.records import read_metrics
from autodev.core.timer import PerformanceTimer, register_sink, unregister_sink
from autodev.models import ModelProvider, Usage
from autodev.models.pricing import Pricer, load_price_table, total_cost
from autodev.run import steps
from autodev.run.checkpoints import checkpoint_message, cut_off_calls, reopen
from autodev.run.events import Reporter, RunEvent, silent
from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.run.plan import RunPlan
from autodev.run.scheduler import run_graph
from autodev.run.selection.decide import recheck_diff
from autodev.run.state import AgentState, RunState, StateStore
from autodev.run.toolset import configured_tools, scope_for, tools_for_agent
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import Tool
from autodev.tools.names import WRITING_TOOLS as WRITING

RETRIEVAL_AGENTS = frozenset({"researcher-local"})
RETRIEVAL_SHARE = 0.6  # of the agent's context budget; the rest is its prompt and its own Read/Grep turns

# build -> gate -> validate(0) [-> remediate(0) -> gate -> validate(1) ...] -> finish
Step = Literal["build", "gate", "validate", "remediate", "finish"]


class RunFailed(Exception):
    """Ends a run early; the message becomes state.json's `error`."""


@dataclass(frozen=True)
class RunPaths:
    run_dir: Path
    worktree: Path
    state_file: Path
    metrics_file: Path
    cache_file: Path
    sessions: Path

    @classmethod
    def for_run(cls, repo: Path, run_id: str) -> RunPaths:
        base = repo / ".autodev"
        run_dir = base / "runs" / run_id
        return cls(
            run_dir,
            base / "worktrees" / run_id,
            run_dir / "state.json",
            run_dir / "metrics.jsonl",
            base / "cache" / "performance_metrics.jsonl",
            run_dir / "sessions",
        )


def new_run_id() -> str:
    return f"{utc_now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class Orchestrator:
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
        paths: RunPaths | None = None,
    ) -> None:
        """`resume`: the saved state of a stopped run to go on with (its run id, worktree and branch).
        `close_provider=False`: the provider is shared with other runs (a batch), which close it."""
        self.close_provider = close_provider
        self.plan = plan
        if plan.settings.otel:
            otel.enable_tracing()  # before anything is written: a missing package is a usage error
        self.provider = wrap(provider, plan.settings)
        self.report = reporter
        self.run_id = resume.run_id if resume is not None else run_id or new_run_id()
        self.paths = paths or RunPaths.for_run(plan.repo, self.run_id)  # given: a step of a run driven elsewhere
        self.use_worktree = use_worktree
        self.resuming = resume is not None
        self.tools = configured_tools(plan.settings)
        if plan.skills:  # offered only when there is something to load
            self.tools["Skill"] = SkillTool(plan.skills)
        self.review_diff = ""
        self.analyser_facts: dict[str, str] = {}  # agent -> rendered tier-0 facts for this validation round
        self._retrieval: str | None = None  # researcher-local's ranked snippets, built once per run
        self._writers: dict[str, Workspace] = {}  # writing agents running now -> their views
        self.lock = FileLock(run_lock_path(self.paths.run_dir))
        root = self.paths.worktree if use_worktree else plan.repo
        self.workspace = Workspace(root, read_only=not use_worktree)
        self.metrics = MetricsSink(self.paths.metrics_file, self.paths.cache_file)
        self.pricer = Pricer(load_price_table(plan.settings.prices), warn=self._warn)
        state = resume if resume is not None else self._new_state(root)
        # this run's skips (a resumed run's are in its state): the diff re-check may only remove some
        self.skips = (
            dict(plan.selection.skips)
            if resume is None
            else {name: agent.reason or "" for name, agent in state.agents.items() if agent.status == "skipped"}
        )
        self.store = StateStore(self.paths.state_file, state)

    def _new_state(self, root: Path) -> RunState:
        plan = self.plan
        state = RunState(
            run_id=self.run_id,
            request=plan.request,
            repo=str(plan.repo),
            worktree=str(root),
            branch=f"autodev/{self.run_id}" if self.use_worktree else "",
            base_commit=plan.base_commit,
        )
        state.change_type = {
            "before": plan.selection.change_type,
            "after": None,
            "reasons": list(plan.selection.reasons),
        }
        state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
        state.options = plan.options()
        for name in plan.pipeline.names:
            resolved = plan.models[name]
            state.agents[name] = AgentState(tier=resolved.tier, model=resolved.model_id)
        return state

    # ----------------------------------------------------------------- lifecycle
    def setup(self) -> None:
        """Create (or, resuming, reopen) the run directory and the worktree. The user's checkout is not touched."""
        if not self.resuming:
            self.paths.run_dir.mkdir(parents=True, exist_ok=False)  # a run id is never reused
        self.lock = acquire_run_lock(self.paths.run_dir, self.run_id)
        try:
            self._open_run()
        except BaseException:
            self.lock.release()
            raise
        register_sink(self.run_id, self.metrics)  # PerformanceTimer(name, run_id=...) anywhere records here
        if RETRIEVAL_AGENTS & set(self.plan.pipeline.names) - set(self.skips):
            # loading the tokenizer takes about a second: do it while the worktree is being made
            threading.Thread(target=count_tokens, args=("",), name="autodev-tokenizer", daemon=True).start()

    def _open_run(self) -> None:
        self.paths.sessions.mkdir(parents=True, exist_ok=True)
        state = self.store.state
        if self.resuming:
            done = reopen(state, self.paths.run_dir, use_worktree=self.use_worktree)
            if done.saved_patch is not None:
                self._warn(f"unfinished work of the interrupted agent(s) was saved to {done.saved_patch}")
            self._account_cut_off_runs(done.restarted)
            self.store.save()
            return
        with repo_lock(gitops.common_dir(self.plan.repo)):
            gitops.ensure_excludes(self.plan.repo)
            if self.use_worktree:
                gitops.add_worktree(self.plan.repo, self.paths.worktree, state.branch, self.plan.base_commit)
        self.store.save()

    def _account_cut_off_runs(self, restarted: list[str]) -> None:
        """Calls an interrupted agent made were paid for: record them as its `interrupted` run."""
        state = self.store.state
        for name, calls in cut_off_calls(read_metrics(self.paths.metrics_file), restarted).items():
            usage = sum((c.usage for c in calls), Usage())
            cost = total_cost(*(c.cost_usd for c in calls))
            state.cost_usd = total_cost(state.cost_usd, cost)
            agent = state.agents[name]
            self.metrics.write(
                agent_record(
                    run_id=self.run_id,
                    agent=name,
                    tier=agent.tier or "",
                    model=agent.model,
                    provider=self.provider.name,
                    status="interrupted",
                    turns=len(calls),
                    usage=usage,
                    cost_usd=cost,
                )
            )

    async def run(self) -> RunState:
        state = self.store.state
        agents = {
            name: {"tier": agent.tier, "model": agent.model, "status": agent.status}
            for name, agent in state.agents.items()
        }
        data = {"worktree": state.worktree, "agents": agents, "resumed": self.resuming}
        self.report(RunEvent("run_started", detail=self.run_id, data=data))
        try:
            if not self.resuming:
                self._record_skips()
            await self._drive()
            state.status = "done"
        except RunFailed as exc:
            state.status, state.error = "failed", str(exc)
        except BaseException as exc:  # Ctrl-C, a kill signal turned into one, or a bug: leave a resumable state
            interrupted = isinstance(exc, KeyboardInterrupt | anyio.get_cancelled_exc_class())
            state.status = "interrupted" if interrupted else "failed"
            state.error = "interrupted" if interrupted else f"{type(exc).__name__}: {exc}"
            self._finish()
            raise
        finally:
            if self.close_provider:
                with anyio.CancelScope(shield=True):
                    await self.provider.aclose()
        self._finish()
        self.report(RunEvent("run_finished", detail=state.status, data={"error": state.error}))
        return state

    def _finish(self) -> None:
        unregister_sink(self.run_id)
        state = self.store.state
        why = "interrupted; `autodev resume` runs it" if state.status == "interrupted" else None
        for agent in state.agents.values():
            if agent.status in ("pending", "running"):
                agent.status, agent.reason = "cancelled", why or agent.reason or "the run ended before this agent ran"
        try:
            if self.use_worktree:
                self._commit_result()
        finally:
            self.store.save()
            self.metrics.close()
            self.lock.release()

    def _commit_result(self) -> None:
        """Done: the checkpoints become one commit. Otherwise the branch keeps its checkpoints, to resume from."""
        state = self.store.state
        try:
            if state.status == "done":
                title = state.request.splitlines()[0][:72]
                state.commit = gitops.squash(
                    self.paths.worktree, self.plan.base_commit, f"autodev: {title}\n\nautodev run {self.run_id}"
                )
            else:
                state.commit = state.checkpoint
            if state.commit:
                summary = gitops.diff_summary(self.paths.worktree, self.plan.base_commit, state.commit)
                state.diff = {
                    "files": summary.files,
                    "insertions": summary.insertions,
                    "deletions": summary.deletions,
                    "stat": summary.stat,
                }
        except gitops.GitError as exc:
            state.error = (state.error + "; " if state.error else "") + f"could not commit the result: {exc}"
            state.status = "failed"

    # ----------------------------------------------------------------- phases
    def _record_skips(self) -> None:
        for name, reason in self.plan.selection.skips.items():
            if name not in self.store.state.agents:
                continue
            agent = self.store.agent(name)
            agent.status, agent.reason = "skipped", reason
            resolved = self.plan.models[name]
            self.metrics.write(
                agent_record(
                    run_id=self.run_id,
                    agent=name,
                    tier=resolved.tier,
                    model=resolved.model_id,
                    provider=self.provider.name,
                    status="skipped",
                    skip_reason=reason,
                )
            )
            self.report(RunEvent("agent_skipped", name, reason))
        self.store.save()

    async def _run_phase(self, names: tuple[str, ...], label: str) -> None:
        """Run `names` as their dependencies allow; an agent already done in this step counts as finished."""
        agents = self.store.state.agents
        finished = [n for n in names if n in self.skips or agents[n].status == "done"]
        if not names or len(finished) == len(names):
            return
        async with PerformanceTimer(label, run_id=self.run_id, sink=self.metrics):
            results = await run_graph(
                self.plan.pipeline,
                names,
                self._run_named,
                max_parallel=self.plan.settings.max_parallel,
                on_blocked=self._blocked,
                skipped=tuple(finished),
            )
        failed = [n for n in names if not results.get(n) and self.store.agent(n).status == "failed"]
        if failed:
            errors = "; ".join(f"{n}: {self.store.agent(n).error}" for n in failed)
            raise RunFailed(f"agent failed: {errors}")

    def _advance(self, step: Step, cycle: int, *, notes: str | None = None, rerun: tuple[str, ...] = ()) -> None:
        """Move to `step`, marking the agents it (re)runs pending, in one save: a resume starts exactly here."""
        progress: dict[str, object] = {"step": step, "cycle": cycle}
        if notes is not None:
            progress["notes"] = notes
        self.store.state.progress = progress
        for name in rerun:
            if name not in self.skips:
                agent = self.store.agent(name)
                agent.status, agent.reason, agent.error = "pending", None, None
        self.store.save()

    async def _drive(self) -> None:
        """Run the steps from wherever state.json says the run is."""
        pipeline = self.plan.pipeline
        validation = pipeline.validation_phase()
        while True:
            progress = self.store.state.progress
            step, cycle = progress.get("step", "build"), int(progress.get("cycle", 0))
            if step == "build":
                await self._run_phase(pipeline.build_phase(), "build_phase")
                self._advance("gate", cycle)
            elif step == "gate":
                await self._test_gate()
                self._advance("validate" if validation else "finish", cycle, rerun=validation)
            elif step == "validate":
                requests = await self._validate(validation, cycle)
                if not requests:
                    self._advance("finish", cycle)
                    continue
                target = pipeline.remediation_target
                if steps.after_validation(requests, cycle, self.plan.settings.max_remediation_cycles, target) == "fail":
                    raise RunFailed(steps.still_requesting(requests, cycle))
                assert target is not None
                self.report(RunEvent("note", target, steps.remediation_note(requests, cycle)))
                self._advance("remediate", cycle, notes=steps.findings_notes(requests), rerun=(target,))
            elif step == "remediate":
                target = pipeline.remediation_target
                assert target is not None, "only a pipeline with a remediation target gets here"
                if self.store.agent(target).status != "done":
                    await self._rerun(target, steps.remediation_task(str(progress.get("notes", ""))))
                self._advance("gate", cycle + 1)
            else:
                return

    async def _validate(self, names: tuple[str, ...], cycle: int) -> dict[str, str]:
        if self.use_worktree:
            self.review_diff = self._change_for_review()
            await self._run_analysers(names)
        await self._run_phase(names, "validation_phase" if cycle == 0 else f"validation_phase_{cycle + 1}")
        return self._change_requests(names)

    def _change_requests(self, names: tuple[str, ...]) -> dict[str, str]:
        state = self.store.state
        handoffs = {
            name: state.agents[name].handoff or ""
            for name in names
            if name in self.plan.pipeline.verdict_agents and self.store.agent(name).status == "done"
        }
        verdicts = steps.judge({name: parse_verdict(text).decision for name, text in handoffs.items()}, state.strikes)
        state.strikes = verdicts.strikes
        if verdicts.failed is not None:
            agent = self.store.agent(verdicts.failed)
            agent.status, agent.error = "failed", steps.MISSING_VERDICT_TWICE
            self.store.save()
            raise RunFailed(f"agent failed: {verdicts.failed}: {agent.error}")
        return {name: steps.findings(handoffs[name]) for name in verdicts.requesting}

    async def _rerun(self, name: str, notes: str) -> None:
        if not await self._run_named(name, notes):
            raise RunFailed(f"agent failed: {name}: {self.store.agent(name).error}")

    def _recheck_diff(self, gate_agent: str) -> bool:
        """Re-classify the change from the worktree's diff; it may only add work back. True: gate due."""
        state = self.store.state
        result = recheck_diff(
            self.plan.selection,
            self.paths.worktree,
            self.plan.base_commit,
            self.skips,
            self.plan.pipeline.validation_phase(),
            gate_agent_skipped=gate_agent in self.skips,
        )
        state.change_type["after"] = result.after
        state.change_type["reasons"] += [r for r in result.reasons if r not in state.change_type["reasons"]]
        for name, why in result.unskip.items():
            del self.skips[name]
            agent = self.store.agent(name)
            agent.status, agent.reason = "pending", why
            self.report(RunEvent("note", name, why))
        if result.run_gate:
            state.gate.pop("reason", None)
        else:
            state.gate.update(status="skipped", reason=result.gate_reason)
            self.report(RunEvent("gate", detail=f"skipped: {result.gate_reason}"))
        self.store.save()
        return result.run_gate

    async def _test_gate(self) -> None:
        gate_agent = self.plan.pipeline.gate_after
        if gate_agent is None or not self.gate_due():
            return
        retries = self.plan.settings.max_test_retries
        for attempt in range(retries + 1):
            outcome = await self.gate_once(attempt)
            if outcome.passed:
                return
            if attempt == retries:
                raise RunFailed(steps.gate_exhausted(retries, gate_agent, outcome.summary(1500)))
            await self._rerun(gate_agent, steps.gate_fix_task(outcome.summary()))

    def gate_due(self) -> bool:
        """Whether the test gate runs in this gate step: the diff is re-checked first (it may add agents
        back), and there must be a test command. A skipped gate is recorded with its reason."""
        gate_agent = self.plan.pipeline.gate_after
        if gate_agent is None or not self.use_worktree:
            return False
        if not self._recheck_diff(gate_agent):
            return False
        if self.plan.test_command is None:
            self.store.state.gate.update(status="skipped", reason="no test command: none configured and no tests found")
            self.report(RunEvent("gate", detail="skipped: no test command configured and no tests found"))
            self.store.save()
            return False
        return True

    async def gate_once(self, attempt: int) -> TestOutcome:
        """One run of the project's tests in the worktree, recorded in state.json's `gate`."""
        state = self.store.state
        outcome = await self._run_tests_once()
        state.gate.update(
            status="passed" if outcome.passed else "failed",
            runs=state.gate.get("runs", 0) + 1,
            exit_code=outcome.exit_code,
            command=list(outcome.command),
            duration_s=round(outcome.duration_s, 3),
        )
        report = outcome.report
        if report is not None:
            state.gate["tests"] = {
                "runner": report.runner, "passed": report.passed, "failed": report.failed,
                "errors": report.errors, "skipped": report.skipped, "total": report.total,
                "failing": [failure.name for failure in report.failures[:20]],
            }  # fmt: skip
        self.store.save()
        self.report(
            RunEvent(
                "gate",
                detail="passed" if outcome.passed else "failed",
                data={"duration_s": outcome.duration_s, "attempt": attempt + 1},
            )
        )
        return outcome

    async def _run_tests_once(self) -> TestOutcome:
        assert self.plan.test_command is not None
        async with PerformanceTimer("test_gate", run_id=self.run_id, sink=self.metrics):
            outcome = await run_tests(self.plan.test_command, self.paths.worktree, self.plan.settings.test_timeout_s)
        self.store.state.test_summary = outcome.summary()
        return outcome

    async def _tests_for_agent(self) -> str:
        return (await self._run_tests_once()).summary()

    # ----------------------------------------------------------------- one agent
    def _warn(self, message: str) -> None:
        if message not in self.store.state.warnings:
            self.store.state.warnings.append(message)
            self.report(RunEvent("note", None, message))

    def _blocked(self, name: str, reason: str) -> None:
        agent = self.store.agent(name)
        agent.status, agent.reason = "cancelled", reason
        self.store.save()
        self.report(RunEvent("agent_blocked", name, reason))

    async def _run_analysers(self, names: tuple[str, ...]) -> None:
        """Tier 0: programs examine the change before the validation agents do, once per round."""
        kinds = [n for n in names if analysers.is_analysed(n) and n not in self.skips]
        self.analyser_facts = {}
        if not kinds:
            return
        async with PerformanceTimer("analysers", run_id=self.run_id, sink=self.metrics):
            inp = await anyio.to_thread.run_sync(
                analysers.analysis_input, self.paths.worktree, self.plan.base_commit, self.store.state.test_summary
            )

            async def one(kind: analysers.AgentKind) -> None:
                results = await anyio.to_thread.run_sync(analysers.run_analysers, kind, inp)
                analysers.save(results, self.paths.run_dir / "analysers" / f"{kind}.json")
                self.analyser_facts[kind] = analysers.render(results)
                for result in results:
                    if result.status in ("missing", "error"):
                        self._warn(f"analyser {result.name} for {kind}: {result.status}: {result.note}")

            async with anyio.create_task_group() as group:
                for kind in kinds:
                    group.start_soon(one, kind)

    def _shared_context(self, name: str) -> str:
        in_review = name in self.plan.pipeline.validation_phase()
        return prompts.shared_context(self.plan.request, self.review_diff if in_review else None)

    async def _retrieved_context(self, name: str, context_tokens: int) -> str | None:
        """Tier 0 for researcher-local: ranked snippets of the repository, packed into a token budget."""
        if name not in RETRIEVAL_AGENTS:
            return None
        if self._retrieval is None:
            budget = int(context_tokens * RETRIEVAL_SHARE)
            async with PerformanceTimer("retrieval", run_id=self.run_id, sink=self.metrics):
                pack = await anyio.to_thread.run_sync(build_context, self.workspace.root, self.plan.request, budget)
            self._retrieval = prompts.retrieved_section(pack.total_tokens, pack.text)
        return self._retrieval

    def _task_for(
        self, name: str, notes: str | None, write_scope: str | None = None, retrieved: str | None = None
    ) -> str:
        agents = self.store.state.agents
        # an agent's latest finished handoff (one marked pending for a rerun still has its previous one)
        finished = {dep: agents[dep].handoff for dep in agents if agents[dep].handoff}
        return prompts.agent_task(
            prompts.done_handoffs(self.plan.pipeline.inputs_of(name), finished),
            facts=self.analyser_facts.get(name),
            memory=self._project_memory() if name in prompts.MEMORY_AGENTS else None,
            retrieved=retrieved,
            notes=notes,
            write_scope=write_scope,
        )

    def _project_memory(self) -> str | None:
        """CLAUDE.md / AGENTS.md from the run's checkout (symlinks out are not followed)."""
        texts = {}
        for name in prompts.MEMORY_FILES:
            try:
                path = self.workspace.resolve(name)
            except ToolError:
                continue
            if path.is_file() and not path.is_symlink():
                texts[name] = path.read_text(encoding="utf-8", errors="replace")
        return prompts.project_memory(texts, count_tokens)

    def _change_for_review(self) -> str:
        base = self.plan.base_commit
        return prompts.review_diff(
            gitops.diff_against(self.paths.worktree, base, stat=True),
            gitops.diff_against(self.paths.worktree, base, stat=False),
        )

    async def _run_named(self, name: str, notes: str | None = None) -> bool:
        spec = self.plan.specs[name]
        resolved = self.plan.models[name]
        assert resolved.model_id is not None, "prepare() guarantees a model for every agent"
        agent = self.store.agent(name)
        agent.status, agent.error, agent.reason = "running", None, None
        agent.runs += 1
        agent.started_at, agent.ended_at = iso(utc_now()), None
        session_path = self.paths.sessions / f"{name}.md"
        agent.session_file = str(session_path)
        self.store.save()
        self.report(RunEvent("agent_started", name, resolved.model_id, data={"tier": resolved.tier, "run": agent.runs}))
        scope = scope_for(name, self.plan.settings)
        view = self.workspace.for_agent(scope)
        offered = tools_for_agent(spec, self.plan.settings, self.tools, read_only=not self.use_worktree)
        if self.plan.test_command is None or not self.use_worktree:
            offered.pop("RunTests", None)
        spec = with_skills(spec, self.plan.skills, index="Skill" in offered)  # index + preloads in the prompt
        writes = self.use_worktree and bool(offered.keys() & WRITING)
        if writes:
            self._writers[name] = view
        try:
            outcome = await self._run_agent(
                name, agent, spec, offered, view, scope.describe() if writes else None, notes
            )
        finally:
            self._writers.pop(name, None)
        checkpoint = self._checkpoint(name, agent.runs, view) if writes and outcome.ok else None
        self._record(name, outcome, len(view.refusals), checkpoint)
        return outcome.ok

    async def _run_agent(
        self,
        name: str,
        agent: AgentState,
        spec: AgentSpec,
        offered: dict[str, Tool],
        view: Workspace,
        write_scope: str | None,
        notes: str | None,
    ) -> AgentOutcome:
        resolved = self.plan.models[name]
        assert resolved.model_id is not None
        began = utc_now()
        outcome = await run_agent(
            AgentInputs(
                spec=spec,
                model=self.provider.model(resolved.model_id),
                task=self._task_for(name, notes, write_scope, await self._retrieved_context(name, spec.context_tokens)),
                workspace=view,
                tools=offered,
                run_id=self.run_id,
                session_path=Path(agent.session_file or self.paths.sessions / f"{name}.md"),
                metrics=self.metrics,
                max_tokens=self.plan.settings.max_tokens,
                run_tests=self._tests_for_agent if "RunTests" in offered else None,
                context=self._shared_context(name),
                web_search=self.provider.web_search and bool(WEB_TOOLS & set(spec.tools or ())),
                price=self.pricer.cost,
                context_window=self.pricer.table.context_window(resolved.model_id),
                on_turn=self._turn_event,
                session_label=f" (run {agent.runs})" if agent.runs > 1 else "",
            )
        )
        outcome.started_at = began  # the agent's time includes its tier-0 preparation (retrieval, analysers' facts)
        return outcome

    def _checkpoint(self, name: str, run: int, view: Workspace) -> str | None:
        """Commit what the agent changed; with another writer running, only the files this one wrote."""
        others = [other for other in self._writers if other != name]
        paths = None
        if others:
            root = self.paths.worktree
            paths = sorted(p for p in view.written if (root / p).exists())
        try:
            return gitops.commit_paths(self.paths.worktree, checkpoint_message(self.run_id, name, run), paths)
        except gitops.GitError as exc:
            raise RunFailed(f"could not commit {name}'s checkpoint: {exc}") from exc

    def _fit_handoffs(self) -> None:
        """Keep all handoffs together within `budget_tokens`, compacting the largest first."""
        agents = self.store.state.agents
        current = {name: agent.handoff for name, agent in agents.items() if agent.status == "done" and agent.handoff}

        def note(name: str, tokens: int) -> str:
            return (
                f"[handoff compacted to ~{tokens} tokens for the run's handoff budget; full text in sessions/{name}.md]"
            )

        fitted, report = fit_handoffs(current, self.plan.settings.budget_tokens, count_tokens, note)
        for name, text in fitted.items():
            agents[name].handoff = text
        previous = self.store.state.handoff_budget.get("compacted", {})
        self.store.state.handoff_budget = {
            "budget": report.budget,
            "total": report.total,
            "per_agent": report.per_agent,
            "compacted": {**previous, **report.compacted},
        }
        if report.over:
            self._warn(f"handoffs total {report.total} tokens, over the {report.budget}-token budget even compacted")

    def _turn_event(self, outcome: AgentOutcome) -> None:
        usage = outcome.usage
        self.report(
            RunEvent(
                "agent_turn",
                outcome.agent,
                data={
                    "turns": outcome.turns,
                    "input_tokens": usage.context_tokens,
                    "output_tokens": usage.output_tokens,
                    "cost_usd": outcome.cost_usd,
                },
            )
        )

    def _record(self, name: str, outcome: AgentOutcome, refusals: int = 0, checkpoint: str | None = None) -> None:
        agent = self.store.agent(name)
        state = self.store.state
        agent.status = "done" if outcome.ok else "failed"
        agent.model, agent.ended_at = outcome.model, iso(outcome.ended_at)
        agent.started_at = iso(outcome.started_at)
        agent.error = outcome.error
        if outcome.ok:
            agent.handoff = outcome.handoff
            self._fit_handoffs()
        agent.ended_runs += 1
        if checkpoint is not None:  # saved with the transition: state.json and the branch agree
            agent.checkpoint = state.checkpoint = checkpoint
            state.checkpoints.append({"agent": name, "run": agent.runs, "commit": checkpoint, "at": iso(utc_now())})
        state.cost_usd = total_cost(state.cost_usd, outcome.cost_usd)
        self.store.save()  # once per agent: the transition, its handoff, its checkpoint and the run's cost together
        record = agent_record(
            run_id=self.run_id,
            agent=name,
            tier=self.plan.models[name].tier,
            model=outcome.model,
            provider=self.provider.name,
            status=agent.status,
            started_at=outcome.started_at,
            ended_at=outcome.ended_at,
            turns=outcome.turns,
            tool_calls=outcome.tool_calls,
            usage=outcome.usage,
            context_tokens=outcome.context_tokens,
            handoff_tokens=outcome.handoff_tokens,
            cost_usd=outcome.cost_usd,
            refusals=refusals,  # tool calls refused by the sandbox (additive to the contract)
            compactions=outcome.compactions,  # turns whose context was compacted to fit context_tokens
            elided_tokens=outcome.elided_tokens,
        )
        self.metrics.write(record)
        self.report(
            RunEvent(
                "agent_finished",
                name,
                agent.status,
                data={
                    "duration_s": (outcome.ended_at - outcome.started_at).total_seconds(),
                    "turns": outcome.turns,
                    "input_tokens": outcome.usage.input_tokens,
                    "output_tokens": outcome.usage.output_tokens,
                    "cost_usd": outcome.cost_usd,
                    "error": outcome.error,
                },
            )
        )

    # ----------------------------------------------------------------- one step at a time (batch engines)
    @classmethod
    def for_step(
        cls, plan: RunPlan, provider: ModelProvider, state: RunState, paths: RunPaths, reporter: Reporter = silent
    ) -> Orchestrator:
        """An orchestrator for one step of a run that another engine drives (`autodev.engines.temporal`).

        The engine decides the order of steps (with `pipeline.steps`, as `_drive` does); a step runs one
        agent, the test gate or the finish exactly as a local run does, because it is this code. `state`
        holds what the step needs (agents' statuses and finished handoffs, strikes, the last test
        summary); `paths` put the worktree and the run directory where the engine's worker keeps them.
        Nothing is set up, reopened or locked here: the engine owns the run's lifecycle.
        """
        orchestrator = cls(plan, provider, reporter, resume=state, paths=paths)
        orchestrator.paths.sessions.mkdir(parents=True, exist_ok=True)
        return orchestrator

    async def run_agent_step(self, name: str, notes: str | None = None) -> bool:
        """Run one agent as `_drive` would: a validation agent first gets the change under review and its
        analysers' facts. Its handoff, checkpoint and metrics are recorded as in a local run."""
        if self.use_worktree and name in self.plan.pipeline.validation_phase():
            self.review_diff = self._change_for_review()
            await self._run_analysers((name,))
        return await self._run_named(name, notes)

    def finish_step(self) -> None:
        """The run's result: done, its checkpoints squashed into one commit; otherwise the newest checkpoint."""
        self._commit_result()
        self.store.save()

    async def close_step(self) -> None:
        self.metrics.close()
        with anyio.CancelScope(shield=True):
            await self.provider.aclose()
