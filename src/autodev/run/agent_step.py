"""The agent step: prepare, run and record ONE agent — the unit both engines call.

Preparing an agent is most of the work: its tools (narrowed to its write scope, `RunTests` only
where tests can run), its skills, its task (the handoffs it reads, tier-0 facts, project memory,
retrieved context, the driver's notes) and its view of the worktree. Then the tool loop runs
(`agent.runtime.run_agent`), a writing agent's changes become a checkpoint commit, and the recorder
saves the transition, the handoff, the checkpoint and the cost in one go.

Which agent gets what is decided in one small function each, so capabilities can move into the
agent files without touching the flow: `retrieves`, `analysed_kind`, `write_scope`, `reads_memory`,
`is_reviewing`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import anyio

from autodev.agent import analysers, prompts
from autodev.agent.context.counting import count_tokens
from autodev.agent.context.pins import dependency_pins
from autodev.agent.context.retrieval import build_context
from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.skills import with_skills
from autodev.agent.specs import GATE_ROLE, WEB_TOOLS, AgentSpec
from autodev.agent.verdicts import parse_verdict
from autodev.config.providers import ResilientProvider
from autodev.core import gitops
from autodev.core.clock import utc_now
from autodev.core.timer import PerformanceTimer
from autodev.models.cost_cap import CostCap
from autodev.models.pricing import Pricer, load_price_table
from autodev.models.server_info import served_window
from autodev.run.checkpoints import checkpoint_message
from autodev.run.driver import PLAN_AGENT, RunFailed, RunStopped
from autodev.run.estimate import for_plan
from autodev.run.gate.step import GateStep
from autodev.run.gate.verdict import NO_TESTS_LINE
from autodev.run.layout import RunPaths
from autodev.run.plan import RunPlan
from autodev.run.plan_selection import select_after_plan
from autodev.run.recorder import Recorder
from autodev.run.toolset import agent_tools, available_tools
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import Tool
from autodev.tools.names import WRITING_TOOLS

CAP_STOPPED = "stopped at the run's cost cap; `autodev resume --max-cost` runs it"
RETRIEVAL_SHARE = 0.6  # of the agent's context budget; the rest is its prompt and its own Read/Grep turns


# ----------------------------------------------------------------------------- who gets what
# Every capability comes from the agent's file (docs/agents.md), never from its name: a renamed copy
# of a built-in agent wired in through `[pipeline]` gets exactly what the original gets.
def retrieves(name: str, plan: RunPlan) -> bool:
    """Whether the agent's task starts with ranked snippets of the repository (tier 0)."""
    return plan.specs[name].retrieval


def analysed_facts(name: str, plan: RunPlan) -> tuple[str, ...]:
    """Which analysers' facts the agent receives (empty: none)."""
    return tuple(plan.specs[name].facts)


def reads_memory(name: str, plan: RunPlan) -> bool:
    """Whether the agent's task includes the project's CLAUDE.md / AGENTS.md."""
    return plan.specs[name].project_memory


def is_reviewing(name: str, plan: RunPlan) -> bool:
    """Whether the agent reviews the change so far (it gets the diff and its analysers' facts)."""
    return name in plan.pipeline.validation_phase()


def warm_tokenizer(plan: RunPlan, skipped: set[str]) -> None:
    """Loading the tokenizer takes about a second: start it while the worktree is being made."""
    if any(retrieves(name, plan) for name in set(plan.pipeline.names) - skipped):
        threading.Thread(target=count_tokens, args=("",), name="autodev-tokenizer", daemon=True).start()


# ----------------------------------------------------------------------------- the step
@dataclass
class AgentStep:
    """Runs agents of one run, one at a time or several in parallel (each call is one agent)."""

    plan: RunPlan
    provider: ResilientProvider  # wrapped for the run's settings (`config.providers.wrap`)
    recorder: Recorder
    paths: RunPaths
    gate: GateStep
    use_worktree: bool = True

    def __post_init__(self) -> None:
        self.workspace = Workspace(self.root, read_only=not self.use_worktree)
        self.tools: dict[str, Tool] = available_tools(self.plan.settings, self.plan.skills)
        self.pricer = Pricer(load_price_table(self.plan.settings.prices), warn=self.recorder.remember)
        self.cost_cap: CostCap | None = None  # set by `cap_costs` (the local engine), checked before every call
        self.review_diff = ""
        self.analyser_facts: dict[str, str] = {}  # agent -> rendered tier-0 facts for this validation round
        self._retrieval: str | None = None  # ranked snippets of the repository, built once per run
        self._writers: dict[str, Workspace] = {}  # writing agents running now -> their views

    @property
    def root(self) -> Path:
        return self.paths.worktree if self.use_worktree else self.plan.repo

    def cap_costs(self, spent: float) -> None:
        """Enforce the run's `max_cost_usd` from here on, `spent` already counted (a resumed run's cost so far)."""
        limit = self.plan.settings.max_cost_usd
        self.cost_cap = CostCap(limit, self.pricer.table, spent) if limit is not None else None

    async def prepare_review(self, names: tuple[str, ...] | list[str]) -> None:
        """Before a validation round: the change under review, and the analysers' facts about it."""
        if not self.use_worktree:
            return
        base = self.plan.base_commit
        self.review_diff = prompts.review_diff(
            gitops.diff_against(self.paths.worktree, base, stat=True),
            gitops.diff_against(self.paths.worktree, base, stat=False),
        )
        await self._run_analysers(names)

    def writes(self, name: str) -> bool:
        """Whether agent `name` is given a tool that changes the worktree."""
        given = agent_tools(
            self.plan.specs[name],
            self.plan.settings,
            self.tools,
            read_only=not self.use_worktree,
            can_run_tests=self.plan.test_command is not None and self.use_worktree,
        )
        return self.use_worktree and bool(given.tools.keys() & WRITING_TOOLS)

    async def run(self, name: str, notes: str | None = None) -> bool:
        """Run agent `name` (with `notes`, a rerun) and record it; True when it finished."""
        spec = self.plan.specs[name]
        resolved = self.plan.models[name]
        assert resolved.model_id is not None, "prepare() guarantees a model for every agent"
        self.recorder.store.agent(name).session_file = str(self.paths.sessions / f"{name}.md")
        self.recorder.started(name, resolved.tier, resolved.model_id)
        given = agent_tools(
            spec,
            self.plan.settings,
            self.tools,
            read_only=not self.use_worktree,
            can_run_tests=self.plan.test_command is not None and self.use_worktree,
        )
        scope, offered = given.scope, given.tools
        view = self.workspace.for_agent(scope)
        spec = with_skills(spec, self.plan.skills, index="Skill" in offered)  # index + preloads in the prompt
        writes = self.use_worktree and bool(offered.keys() & WRITING_TOOLS)
        if writes:
            self._writers[name] = view
        try:
            outcome = await self._run_agent(name, spec, offered, view, scope.describe() if writes else None, notes)
        finally:
            self._writers.pop(name, None)
        if outcome.cap_reached is not None:
            self.recorder.stopped(name, resolved.tier, outcome, CAP_STOPPED)
            raise RunStopped("budget", self._over_budget(outcome.cap_reached))
        checkpoint = self._checkpoint(name, view) if writes and outcome.ok else None
        if writes and outcome.ok and checkpoint is None and name == self.plan.pipeline.gate_after:
            outcome.error = self._no_change(name, outcome)
            outcome.ok = outcome.error is None
        self.recorder.finished(
            name,
            resolved.tier,
            outcome,
            budget_tokens=self.plan.settings.budget_tokens,
            refusals=len(view.refusals),
            checkpoint=checkpoint,
        )
        if outcome.ok and name == PLAN_AGENT:
            select_after_plan(self.plan, self.recorder, outcome.handoff or "")
        return outcome.ok

    async def _run_agent(
        self,
        name: str,
        spec: AgentSpec,
        offered: dict[str, Tool],
        view: Workspace,
        scope: str | None,
        notes: str | None,
    ) -> AgentOutcome:
        resolved = self.plan.models[name]
        assert resolved.model_id is not None
        agent = self.recorder.store.agent(name)
        began = utc_now()
        retrieved = await self._retrieved_context(name, spec.context_tokens)
        outcome = await run_agent(
            AgentInputs(
                spec=spec,
                model=self.provider.model(resolved.model_id),
                task=self._task_for(name, notes, scope, retrieved),
                workspace=view,
                tools=offered,
                run_id=self.recorder.run_id,
                session_path=Path(agent.session_file or self.paths.sessions / f"{name}.md"),
                metrics=self.recorder.metrics,
                max_tokens=self.plan.settings.max_tokens,
                run_tests=self._tests_for_agent if "RunTests" in offered else None,
                context=self._shared_context(name),
                web_search=self.provider.web_search and bool(WEB_TOOLS & set(spec.tools or ())),
                price=self.pricer.cost,
                context_window=self.pricer.table.context_window(resolved.model_id)  # configured, else as served
                or await served_window(self.provider, resolved.model_id),
                on_turn=self.recorder.turn,
                on_tool=self.recorder.tool,
                session_label=f" (run {agent.runs})" if agent.runs > 1 else "",
                jail=self.gate.jail,
                cost_cap=self.cost_cap,
            )
        )
        outcome.started_at = began  # the agent's time includes its tier-0 preparation (retrieval, analysers' facts)
        return outcome

    def _over_budget(self, refused: str) -> str:
        """Why the run stopped at its cost cap, what the rest is estimated to need, and how to go on."""
        agents = self.recorder.agents
        rest = [name for name in self.plan.pipeline.names if agents[name].status not in ("done", "skipped")]
        estimate = for_plan(self.plan, rest, exclude_run=self.recorder.run_id)
        spent = self.cost_cap.spent if self.cost_cap is not None else 0.0
        raised = f" --max-cost {math.ceil((spent + estimate.p95_usd) * 100) / 100:.2f}" if estimate.p95_usd else ""
        return (
            f"{refused}, so the run stopped before that call. The rest ({', '.join(rest)}) is estimated at "
            f"{estimate.describe()}; go on with: autodev resume {self.recorder.run_id}{raised or ' --max-cost USD'}"
        )

    async def _tests_for_agent(self) -> str:
        return (await self.gate.run_judged(timer="agent_tests")).summary()  # not the gate: inside the agent's time

    async def _run_analysers(self, names: tuple[str, ...] | list[str]) -> None:
        """Tier 0: programs examine the change before the validation agents do, once per round."""
        agents = self.recorder.agents
        kinds = [n for n in names if analysed_facts(n, self.plan) and agents[n].status != "skipped"]
        self.analyser_facts = {}
        if not kinds:
            return
        async with PerformanceTimer("analysers", run_id=self.recorder.run_id, sink=self.recorder.metrics):
            inp = await anyio.to_thread.run_sync(
                analysers.analysis_input,
                self.paths.worktree,
                self.plan.base_commit,
                self.recorder.store.state.test_summary,
                self.gate.jail,
                self._tests_written_at(),
            )

            async def one(kind: str) -> None:
                facts = analysed_facts(kind, self.plan)
                results = await anyio.to_thread.run_sync(analysers.run_analysers, facts, inp)
                analysers.save(results, self.paths.run_dir / "analysers" / f"{kind}.json")
                self.analyser_facts[kind] = analysers.render(results)
                tests_skipped = self.recorder.store.state.gate.status == "skipped"  # the gate's line said why
                for result in results:
                    if result.status == "missing" and result.name == "tests" and tests_skipped:
                        continue
                    if result.status in ("missing", "error"):
                        self.recorder.warn(f"analyser {result.name} for {kind}: {result.status}: {result.note}")

            async with anyio.create_task_group() as group:
                for kind in kinds:
                    group.start_soon(one, kind)

    def _tests_written_at(self) -> str:
        """The commit the tests stood at when the implementer started: the last checkpoint before the first
        one of an agent with the gate role (the test-master's, in the default pipeline), or the base commit."""
        gate_agents = {name for name, spec in self.plan.specs.items() if GATE_ROLE in spec.roles}
        commit = self.plan.base_commit
        for checkpoint in self.recorder.store.state.checkpoints:
            if checkpoint.agent in gate_agents:
                break
            commit = checkpoint.commit
        return commit

    def _shared_context(self, name: str) -> str:
        reviewing = is_reviewing(name, self.plan)
        context = prompts.shared_context(self.plan.request, self.review_diff if reviewing else None)
        if reviewing:  # every validation agent is told what happened to the tests, never an assumed pass
            gate = self.recorder.store.state.gate
            context += "\n\n" + prompts.tests_section(gate.status, gate.reason, NO_TESTS_LINE)
        return context

    async def _retrieved_context(self, name: str, context_tokens: int) -> str | None:
        """Tier 0 for a retrieving agent: ranked snippets of the repository, packed into a token budget."""
        if not retrieves(name, self.plan):
            return None
        if self._retrieval is None:
            budget = int(context_tokens * RETRIEVAL_SHARE)
            async with PerformanceTimer("retrieval", run_id=self.recorder.run_id, sink=self.recorder.metrics):
                pack = await anyio.to_thread.run_sync(build_context, self.workspace.root, self.plan.request, budget)
            self._retrieval = prompts.retrieved_section(pack.total_tokens, pack.text)
        return self._retrieval

    def _task_for(self, name: str, notes: str | None, scope: str | None, retrieved: str | None) -> str:
        agents = self.recorder.agents
        # an agent's latest finished handoff (one marked pending for a rerun still has its previous one)
        finished = {dep: agents[dep].handoff for dep in agents if agents[dep].handoff}
        return prompts.agent_task(
            prompts.done_handoffs(self.plan.pipeline.inputs_of(name), finished),
            facts=self.analyser_facts.get(name),
            memory=self._project_memory() if reads_memory(name, self.plan) else None,
            retrieved=retrieved,
            notes=notes,
            write_scope=scope,
            previous=self._previous_review(name) or self._previous_attempt(name),
            extra=(self._dependency_pins(name),),
        )

    def _previous_attempt(self, name: str) -> str | None:
        """A writing agent's rerun (a gate retry, a remediation cycle): its own earlier diff stats and `## Changes`."""
        agent = self.recorder.store.agent(name)
        if agent.runs < 2 or not self.use_worktree:
            return None
        own = [c.commit for c in self.recorder.store.state.checkpoints if c.agent == name]
        stats = [gitops.diff_summary(self.paths.worktree, f"{commit}^", commit).stat for commit in own]
        changes = prompts.section_of(agent.handoff, "Changes") if agent.handoff else None
        return prompts.previous_attempt(stats, changes)

    def _dependency_pins(self, name: str) -> str | None:
        """An agent with web tools researches outside the repository: it gets the versions the project pins."""
        if not WEB_TOOLS & set(self.plan.specs[name].tools or ()):
            return None
        return dependency_pins(self.workspace.root)

    def _previous_review(self, name: str) -> str | None:
        """A verdict agent's rerun: its own earlier findings and the round number (docs/agents.md, verdicts)."""
        agent = self.recorder.store.agent(name)
        if not self.plan.specs[name].verdict or agent.runs < 2 or not agent.handoff:
            return None
        return prompts.previous_review(agent.runs, parse_verdict(agent.handoff).findings)

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

    def _no_change(self, name: str, outcome: AgentOutcome) -> str | None:
        """Why a run whose gate agent finished leaves the repository as it was (None: it changed something).

        Without this, a model that never calls tools (a local server that drops them) "succeeds" in prose:
        the tests pass on the unchanged tree and the run ends `done` with nothing done (issue 20)."""
        if gitops.diff_against(self.paths.worktree, self.plan.base_commit, stat=True).strip():
            return None
        calls = sum(outcome.tool_calls.values())
        if calls == 0:
            return (
                f"the {name} made no tool calls, so nothing changed: does the model ({outcome.model}) support tool "
                "calling? `autodev doctor` checks it (docs/local-models.md)"
            )
        used = ", ".join(f"{tool} ×{n}" for tool, n in outcome.tool_calls.most_common())
        return f"the {name} changed no file ({calls} tool call(s): {used}), so the run has no change to test"

    def _checkpoint(self, name: str, view: Workspace) -> str | None:
        """Commit what the agent changed; with another writer running, only the files this one wrote."""
        run = self.recorder.store.agent(name).runs
        paths = None
        if any(other != name for other in self._writers):
            root = self.paths.worktree
            paths = sorted(p for p in view.written if (root / p).exists())
        try:
            return gitops.commit_paths(self.paths.worktree, checkpoint_message(self.recorder.run_id, name, run), paths)
        except gitops.GitError as exc:
            raise RunFailed(f"could not commit {name}'s checkpoint: {exc}") from exc
