"""The test gate: the diff re-checked, then one run of the project's tests in the worktree, recorded.

The gate is the run's own check after the gate agent (the implementer): the code runs the tests,
not an agent. Before the build phase, the baseline step runs them once at the base commit (or reads
that run from the cache); the gate then judges each run against it (`autodev.run.gate.verdict`).
Before the first test run of a gate step the change is classified again from its diff, which may
add agents back (a "docs" request that touched code) or skip the gate (only documentation changed).
An agent it adds back to the build phase (the test writer) runs before the tests do: `due()` says
"not yet" while one is pending, and the driver runs it, then asks again.
Every outcome is recorded in state.json's `gate` and as a `gate` event.
Both engines use it: the local run in its worktree, a Temporal activity in a checkout of the tip.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from autodev.agent.specs import AgentSpec
from autodev.config.settings import Settings
from autodev.core.timer import PerformanceTimer
from autodev.run.confinement import run_jail
from autodev.run.events import RunEvent
from autodev.run.gate.baseline_step import BaselineStep
from autodev.run.gate.changed_tests import ChangedTests
from autodev.run.gate.environment import TestEnvironment
from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.run.gate.verdict import Judged, judge
from autodev.run.graph import Pipeline
from autodev.run.layout import RunPaths
from autodev.run.recorder import Recorder
from autodev.run.selection.decide import Selection, recheck_diff, test_writers
from autodev.run.state import GateTests
from autodev.sandbox.jail import Jail

NO_COMMAND = "no test command: none configured and no tests found"


class GatePlan(Protocol):
    """What the gate needs of the run's plan (`run.plan.RunPlan` is one; the plan imports the gate's runner)."""

    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def selection(self) -> Selection: ...
    @property
    def base_commit(self) -> str: ...
    @property
    def test_command(self) -> list[str] | None: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def repo(self) -> Path: ...
    @property
    def tests(self) -> TestEnvironment | None: ...
    @property
    def specs(self) -> dict[str, AgentSpec]: ...


@dataclass
class GateStep:
    plan: GatePlan
    recorder: Recorder
    paths: RunPaths
    use_worktree: bool = True

    @cached_property
    def jail(self) -> Jail:
        """Where the run's code executes (the tests here; Bash and the analysers borrow it): the worktree
        writable, or, for a run without one, the repository itself read-only."""
        if self.use_worktree:
            return run_jail(self.plan.settings, self.paths.worktree, self.plan.repo)
        return run_jail(self.plan.settings, self.plan.repo, self.plan.repo, writable=False)

    @cached_property
    def baseline_step(self) -> BaselineStep:
        plan = self.plan
        return BaselineStep(
            self.recorder,
            plan.test_command,
            plan.base_commit,
            self.paths.worktree,
            plan.repo,
            self.paths.baselines,
            self.jail,
            self.run_once,
            plan.tests.describe() if plan.tests is not None else "",
        )

    async def baseline(self) -> None:
        """Before the build phase: the tests at the base commit, for the gate to judge against (once a run)."""
        plan = self.plan
        gate_agent = plan.pipeline.gate_after
        if gate_agent is None or not self.use_worktree or plan.test_command is None:
            return  # no gate: nothing to compare
        selection = plan.selection
        if gate_agent in selection.skips:
            await self.baseline_step.take(f"{gate_agent} is skipped: no change to test")
        elif selection.mode == "auto" and selection.change_type in selection.policy.skip_gate:
            why = f"a {selection.change_type} request may skip the test gate, so none was taken before the build"
            await self.baseline_step.take(why)
        else:
            await self.baseline_step.take(None)

    def judge(self, outcome: TestOutcome) -> Judged:
        """The verdict on one test run: against the baseline per test, or by exit code (and why)."""
        tests, why = self.baseline_step.tests()
        return judge(outcome, tests, why, ChangedTests(self.paths.worktree, self.plan.base_commit))

    def due(self) -> bool:
        """Whether the tests run in this gate step: the diff is re-checked first (it may add agents
        back), and there must be a test command. A skipped gate is recorded with its reason."""
        gate_agent = self.plan.pipeline.gate_after
        if gate_agent is None or not self.use_worktree:
            return False
        if not self._recheck_diff(gate_agent):
            return False
        if self.writers_pending():
            return False  # the test writer the re-check brought back runs first (the driver runs it)
        if self.plan.test_command is None:
            self.recorder.store.state.gate.skip(NO_COMMAND)
            skipped = RunEvent(
                "gate", detail="skipped: no test command configured and no tests found", data={"after": gate_agent}
            )
            self.recorder.report(skipped)
            self.recorder.save()
            return False
        return True

    def writers_pending(self) -> list[str]:
        """Test writers of the build phase that the diff re-check brought back and that have not run yet."""
        agents = self.recorder.store.state.agents
        writers = test_writers(self.plan.pipeline, self.plan.specs)
        return [name for name in writers if name in agents and agents[name].status == "pending"]

    def _recheck_diff(self, gate_agent: str) -> bool:
        """Re-classify the change from the worktree's diff; it may only add work back. True: gate due."""
        state, recorder = self.recorder.store.state, self.recorder
        skips = {name: agent.reason or "" for name, agent in state.agents.items() if agent.status == "skipped"}
        result = recheck_diff(
            self.plan.selection,
            self.paths.worktree,
            self.plan.base_commit,
            skips,
            (*self.plan.pipeline.validation_phase(), *test_writers(self.plan.pipeline, self.plan.specs)),
            gate_agent_skipped=gate_agent in skips,
            expected=state.change_type.expected,
        )
        change = state.change_type
        change.after = result.after
        change.reasons += [reason for reason in result.reasons if reason not in change.reasons]
        for name, why in result.unskip.items():
            state.agents[name].unskip(why)
            recorder.note(name, why)
        if result.run_gate:
            state.gate.due()
        else:
            state.gate.skip(result.gate_reason or "")
            recorder.report(RunEvent("gate", detail=f"skipped: {result.gate_reason}", data={"after": gate_agent}))
        recorder.save()
        return result.run_gate

    async def once(self, attempt: int) -> Judged:
        """One run of the project's tests in the worktree, judged and recorded in state.json's `gate`."""
        state = self.recorder.store.state
        after = self.plan.pipeline.gate_after
        state.gate.after = after
        state.gate.environment = self.plan.tests.describe() if self.plan.tests else None
        started = {"attempt": attempt + 1, "command": list(self.plan.test_command or ()), "after": after}
        self.recorder.report(RunEvent("gate", detail="started", data=started))
        judged = await self.run_judged()
        outcome = judged.outcome
        state.gate.ran(judged.status, outcome.exit_code, list(outcome.command), outcome.duration_s)
        state.gate.verdict = judged.verdict
        report = outcome.report
        if report is not None:
            state.gate.tests = GateTests(
                runner=report.runner,
                passed=report.passed,
                failed=report.failed,
                errors=report.errors,
                skipped=report.skipped,
                total=report.total,
                failing=[failure.name for failure in report.failures[:20]],
            )
        self.recorder.save()
        data = {
            "duration_s": outcome.duration_s,
            "attempt": attempt + 1,
            "status": judged.status,
            "after": after,
            "command": list(outcome.command),
            "exit_code": outcome.exit_code,
            "tests": state.gate.tests.to_json() if report is not None and state.gate.tests is not None else None,
        }
        self.recorder.report(RunEvent("gate", detail=judged.event_detail(), data=data))
        return judged

    async def run_once(self) -> TestOutcome:
        """One run of the test command in the worktree: the gate's, `RunTests`' and the baseline's."""
        assert self.plan.test_command is not None
        return await run_tests(
            self.plan.test_command, self.paths.worktree, self.plan.settings.test_timeout_s, self.jail, self.plan.tests
        )

    async def run_judged(self, timer: str = "test_gate") -> Judged:
        """The tests, timed and judged; the judged summary is kept for the reviewer's analysers (also `RunTests`).

        `timer`: the record's name. The gate's runs are `test_gate` (the report's `tests` lane and a
        link of the critical path); an agent's `RunTests` passes its own name, as its time is the agent's.
        """
        async with PerformanceTimer(timer, run_id=self.recorder.run_id, sink=self.recorder.metrics):
            outcome = await self.run_once()
        judged = self.judge(outcome)
        self.recorder.store.state.test_summary = judged.summary()
        return judged
