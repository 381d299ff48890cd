"""The baseline end to end (issue 17, item 4): scripted runs on real repositories with real test suites.

Before the build phase the tests run once at the base commit; the gate judges the change per test
against that run (as SWE-bench does), and "no tests ran" is its own status, never a pass.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from process_support import processes_mentioning
from scripts import (
    CALC_FILES,
    REQUEST,
    TESTS_WRITTEN,
    call,
    edit_mul,
    feature_script,
    final,
    implemented,
    settle,
    tools,
)

from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import RunResult, execute, run_feature
from autodev.engines.local.run import LocalRun
from autodev.models import Model, ModelRequest, ModelResponse, ModelWrapper, ProviderWrapper
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.events import RunEvent
from autodev.run.plan import prepare

LEGACY_ID = "tests.test_legacy.LegacyTests.test_float_sum"
LEGACY_TESTS = (
    "import unittest\n"
    "\n"
    "from calc import add\n"
    "\n"
    "\n"
    "class LegacyTests(unittest.TestCase):\n"
    "    def test_float_sum(self):\n"
    "        self.assertEqual(add(0.1, 0.2), 0.3)  # fails at the base: floating point\n"
)
ADD_ID = "tests.test_calc.AddTests.test_add"
BREAK_ADD = call("Edit", file_path="calc/__init__.py", old_string="    return a + b\n", new_string="    return a - b\n")
UNBREAK_ADD = call(
    "Edit", file_path="calc/__init__.py", old_string="    return a - b\n", new_string="    return a + b\n"
)


def run(repo: Path, script: dict[str, Any], events: list[RunEvent] | None = None) -> RunResult:
    reporter = events.append if events is not None else (lambda event: None)
    return run_feature(REQUEST, repo, CliOverrides(provider="scripted"), reporter, ScriptedProvider(script))


def state_of(result: RunResult) -> dict[str, Any]:
    return json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))


def timers(result: RunResult) -> list[str]:
    lines = (result.run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [record["name"] for record in map(json.loads, lines) if record["kind"] == "timer"]


def reviewer_tests_fact(result: RunResult) -> dict[str, Any]:
    facts = json.loads((result.run_dir / "analysers" / "reviewer.json").read_text(encoding="utf-8"))
    return next(entry for entry in facts["results"] if entry["name"] == "tests")


@pytest.fixture
def legacy_repo(make_repo: Any) -> Path:
    """The calculator, with one more test that already fails at the base commit."""
    repo = make_repo({**CALC_FILES, "tests/test_legacy.py": LEGACY_TESTS})
    settle(repo)
    return repo


def test_a_failure_at_the_base_is_reported_not_blamed_and_not_sent_back(legacy_repo: Path) -> None:
    events: list[RunEvent] = []
    result = run(legacy_repo, feature_script(), events)
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    baseline = state["baseline"]
    assert baseline["status"] == "recorded" and baseline["commit"] == state["base_commit"]
    assert baseline["tests"]["failing"] == [LEGACY_ID] and baseline["tests"]["passed"] == 1
    gate = state["gate"]
    assert gate["status"] == "passed" and gate["runs"] == 1
    assert gate["exit_code"] == 1  # the suite still fails: the old test, not the change
    assert gate["verdict"]["by"] == "baseline"
    assert gate["verdict"]["preexisting"] == [LEGACY_ID]
    assert gate["verdict"]["broken"] == [] and gate["verdict"]["new_failing"] == []
    assert state["agents"]["implementer"]["runs"] == 1  # not sent back
    summary = state["test_summary"]
    assert summary.startswith("Tests PASSED against the baseline")
    assert f"Already failing at the base (not caused by this change; do not fix them): {LEGACY_ID}" in summary
    # The reviewer's test fact is not a finding against the change, and says what failed before.
    fact = reviewer_tests_fact(result)
    assert fact["status"] == "ok" and "already failing at the base" in fact["note"]
    shown = [event.detail for event in events if event.kind == "gate"]
    assert any(detail.startswith("baseline at ") for detail in shown)
    assert "passed; 1 already failing at the base (not caused by this change)" in shown


def test_a_change_that_breaks_a_passing_test_fails_the_gate_and_goes_back(legacy_repo: Path) -> None:
    implementer = [
        tools(edit_mul(), BREAK_ADD, text="Adding mul (and breaking add)."),
        final(implemented("- Added mul.")),
        tools(UNBREAK_ADD, text="add must still add."),
        final(implemented("- Restored add.")),
    ]
    result = run(legacy_repo, feature_script({"implementer": implementer}))
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    assert state["agents"]["implementer"]["runs"] == 2  # sent back once, for the test it broke
    assert state["gate"]["runs"] == 2 and state["gate"]["status"] == "passed"
    sessions = Path(state["agents"]["implementer"]["session_file"]).read_text(encoding="utf-8")
    retry = sessions.split("(run 2)", 1)[1]
    assert f"Broken by this change (passed at the base, fail or no longer run now): {ADD_ID}" in retry
    assert f"Already failing at the base (not caused by this change; do not fix them): {LEGACY_ID}" in retry


def test_a_broken_test_is_blamed_until_the_retries_run_out(legacy_repo: Path) -> None:
    implementer = [
        tools(edit_mul(), BREAK_ADD, text="Adding mul (and breaking add)."),
        final(implemented("- Added mul.")),
        final(implemented("- It is fine.")),
        final(implemented("- Still fine.")),
    ]
    state = state_of(run(legacy_repo, feature_script({"implementer": implementer})))

    assert state["status"] == "failed" and "tests still fail" in state["error"]
    assert state["gate"]["status"] == "failed" and state["gate"]["runs"] == 3
    assert state["gate"]["verdict"]["broken"] == [ADD_ID]
    assert state["gate"]["verdict"]["preexisting"] == [LEGACY_ID]


def test_no_tests_collected_is_its_own_status_never_passed(make_repo: Any) -> None:
    files = {key: value for key, value in CALC_FILES.items() if not key.startswith("tests/")}
    files[".autodev/config.toml"] = 'test_command = "python -m pytest -q"\n'
    files["tests/__init__.py"] = ""
    repo = make_repo(files)
    settle(repo)
    script = feature_script(
        {
            "test-master": [final(TESTS_WRITTEN)],
            "implementer": [tools(edit_mul(), text="Adding mul."), final(implemented("- Added mul."))],
        }
    )
    events: list[RunEvent] = []
    result = run(repo, script, events)
    state = state_of(result)

    assert state["status"] == "done", state.get("error")  # nothing for the implementer to fix: the run goes on
    assert state["gate"]["status"] == "no_tests"
    assert state["gate"]["exit_code"] == 5
    assert state["agents"]["implementer"]["runs"] == 1
    assert state["test_summary"].startswith("Tests NO TESTS RAN (not a pass)")
    assert "This is NOT a pass" in state["test_summary"]
    assert "no tests ran (not a pass)" in [event.detail for event in events if event.kind == "gate"]
    fact = reviewer_tests_fact(result)  # the reviewer is told plainly
    assert fact["status"] == "findings"
    assert [finding["rule"] for finding in fact["findings"]] == ["no-tests"]
    assert state["baseline"]["tests"]["total"] == 0  # no tests at the base either: a baseline of nothing
    for name in ("reviewer", "security-auditor", "doc-master"):  # every validation agent is told plainly
        session = Path(state["agents"][name]["session_file"]).read_text(encoding="utf-8")
        assert "No tests ran: the test command collected no tests. This is NOT a pass" in session, name


def test_a_second_run_on_the_same_base_reuses_the_cached_baseline(legacy_repo: Path) -> None:
    first = run(legacy_repo, feature_script())
    second = run(legacy_repo, feature_script())
    one, two = state_of(first), state_of(second)

    assert one["status"] == two["status"] == "done"
    assert one["baseline"]["cached"] is False and two["baseline"]["cached"] is True
    assert one["baseline"]["key"] == two["baseline"]["key"]
    cache_file = Path(two["baseline"]["cache_file"])
    assert cache_file.parent == legacy_repo / ".autodev" / "cache" / "baselines"
    cached = json.loads(cache_file.read_text(encoding="utf-8"))
    assert cached["key"] == two["baseline"]["key"]
    assert cached["tests"]["failing"] == [LEGACY_ID] and cached["tests"]["passing"] == [ADD_ID]
    assert timers(first).count("test_baseline") == 1
    assert "test_baseline" not in timers(second)  # not run again
    assert two["gate"]["verdict"]["preexisting"] == [LEGACY_ID]  # and still judged against it


def test_the_baseline_runs_while_the_read_only_agents_do_and_writers_wait_for_it(legacy_repo: Path) -> None:
    """It costs the run no time on its critical path: it starts with the researchers, and the first agent
    that writes (the test-master) starts only after it, so it still sees the base commit."""
    script = feature_script(delays={"researcher-local": 0.5, "researcher-web": 0.5})
    result = run(legacy_repo, script)
    assert state_of(result)["status"] == "done"
    records = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    (baseline,) = [r for r in records if r["kind"] == "timer" and r["name"] == "test_baseline"]
    agents = {r["agent"]: r for r in records if r["kind"] == "agent"}
    began = datetime.fromisoformat(baseline["started_at"])
    ended = began + timedelta(seconds=baseline["duration_s"])
    assert datetime.fromisoformat(agents["researcher-local"]["started_at"]) < ended  # it didn't wait for the baseline
    assert datetime.fromisoformat(agents["test-master"]["started_at"]) >= ended - timedelta(milliseconds=5)


BASELINE_MARKER = "543.21"  # in the hanging suite's command line, to find its processes


class WaitsForTheBaseline(ProviderWrapper):
    """The scripted replies, but the planner answers only once the baseline's suite is running: the run
    then stops at the plan's approval with the baseline still running, whatever the machine's speed."""

    def wrap(self, model: Model) -> Model:
        return _PlannerWaits(model)


@dataclass
class _PlannerWaits(ModelWrapper):
    async def complete(self, request: ModelRequest) -> ModelResponse:
        if request.agent == "planner":
            with anyio.fail_after(120):
                while not processes_mentioning(BASELINE_MARKER):
                    await anyio.sleep(0.05)
        return await self.inner.complete(request)


def test_a_run_that_stops_before_any_writer_stops_its_baseline(make_repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline starts beside the researchers; a run that stops at `--approve plan` does not need it, and
    must neither wait for it nor leave its suite (or the jail around it) running. The stop is asked for while
    the suite's start is still returning (forked, not yet handed back): a cancel that lands there, inside the
    start's shield, would lose the process and leave it running (as `Task.cancel()` did)."""
    hanging = (
        "import subprocess, sys, time, unittest\n\n\n"
        "class Hangs(unittest.TestCase):\n"
        "    def test_hangs(self):\n"
        f"        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep({BASELINE_MARKER})'])\n"
        f"        time.sleep({BASELINE_MARKER})\n"
    )
    repo = make_repo({**CALC_FILES, "tests/test_hangs.py": hanging})
    stop_asked = anyio.Event()
    real_open, real_finish = anyio.open_process, LocalRun.finish

    async def held_start(command: Any, **kwargs: Any) -> Any:
        process = await real_open(command, **kwargs)
        if "unittest" in " ".join(map(str, command)):
            await stop_asked.wait()  # the run stops while this start has not returned yet
            await anyio.lowlevel.checkpoint()
        return process

    async def finish(self: LocalRun, done: bool, error: str | None, stopped: str | None = None) -> None:
        stop_asked.set()
        await real_finish(self, done, error, stopped)

    monkeypatch.setattr(anyio, "open_process", held_start)
    monkeypatch.setattr(LocalRun, "finish", finish)
    provider = WaitsForTheBaseline(ScriptedProvider(feature_script()))
    plan = dataclasses.replace(prepare(REQUEST, repo, CliOverrides(provider="scripted")), approve=("plan",))
    started = time.monotonic()
    _, state = execute(plan, provider)
    assert state.status == "awaiting-approval"
    assert time.monotonic() - started < 300  # not the suite's 543 s
    assert processes_mentioning(BASELINE_MARKER, settle_s=10) == []
