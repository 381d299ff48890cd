"""The test step is a step everywhere: a row in the live progress, a lane in the timeline (and a link of
the critical path), a section in `autodev report` — on real (scripted) runs of the calculator project.

Nothing here depends on the machine being quick: the assertions are on presence and order, never on
how long the tests took.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from scripts import (
    CALC_FILES,
    REQUEST,
    VALIDATION_AGENTS,
    WRONG_MUL_IMPL,
    edit_mul,
    feature_script,
    final,
    fix_mul,
    settle,
    tools,
)

from autodev.apps.cli.main import main
from autodev.apps.cli.progress import LiveProgress, ProgressPrinter
from autodev.apps.report.timeline import GATE_COLOUR
from autodev.config.settings import CliOverrides
from autodev.core.records import TimerRecord, of_kind, read_metrics
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.events import RunEvent
from autodev.run.gate.summary import GateCounts, GateSection, with_gate
from autodev.run.report import critical_path, run_report
from autodev.run.state import GateTests, RunState, StateStore

FAILS_THEN_PASSES = [  # the first gate fails (mul adds), the implementer fixes it, the second gate passes
    tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul."),
    final("## Changes\n- Added mul."),
    tools(fix_mul(), text="mul added instead of multiplying."),
    final("## Changes\n- Fixed mul to multiply."),
]
ALWAYS_FAILS = [  # the gate fails three times: the run fails with the tests' error
    tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul."),
    final("## Changes\n- Added mul."),
    final("I believe it is correct."),
    final("Still correct, I think."),
    final("unused"),
]


def console() -> Console:
    return Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)


def text_of(target: Console) -> str:
    file = target.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def snapshot(live: LiveProgress) -> str:
    """The live table as it is drawn at this moment."""
    target = console()
    target.print(live._render())
    return text_of(target)


def table_rows(text: str) -> list[str]:
    """The table's rows, by their first word (agent or `tests`), in order."""
    return [line for line in text.splitlines() if line.split(" ", 1)[0] in {*CALC_AGENTS, "tests"}]


CALC_AGENTS = (
    "researcher-local",
    "researcher-web",
    "planner",
    "test-master",
    "implementer",
    *VALIDATION_AGENTS,
)


def run(repo: Path, implementer: list[dict[str, Any]] | None = None, reporter: Any = None) -> RunResult:
    script = feature_script({"implementer": implementer} if implementer else None)
    overrides = CliOverrides(provider="scripted")
    if reporter is None:
        return run_feature(REQUEST, repo, overrides, provider=ScriptedProvider(script))
    return run_feature(REQUEST, repo, overrides, reporter, ScriptedProvider(script))


@pytest.fixture
def calc_repo(make_repo: Any) -> Path:
    repo = make_repo(CALC_FILES)
    settle(repo)
    return repo


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- 1. the live progress
def test_while_the_tests_run_the_live_table_shows_them_running(calc_repo: Path) -> None:
    """Found: during the test run every agent was done or waiting and nothing was running."""
    live_console, plain_console = console(), console()
    live, plain = LiveProgress(live_console), ProgressPrinter(plain_console)
    during: list[str] = []

    def watch(event: RunEvent) -> None:
        live(event)
        plain(event)
        if event.kind == "gate" and event.detail == "started":
            during.append(snapshot(live))  # what the terminal shows while the tests run

    with live:
        result = run(calc_repo, FAILS_THEN_PASSES, watch)
    assert result.state.status == "done", result.state.error

    assert len(during) == 2  # the gate ran twice: each run was shown while it ran
    first = table_rows(during[0])
    names = [row.split(" ", 1)[0] for row in first]
    assert names.index("tests") == names.index("implementer") + 1  # the step sits after the agent it follows
    tests_row = first[names.index("tests")]
    assert re.search(r"^tests\s+running\s+\d+\.\ds\s+.*-m unittest discover", tests_row), tests_row
    assert re.search(r"^implementer\s+done\s", first[names.index("implementer")])
    assert all(re.search(r"\s(waiting|skipped)\s", row) for row in first if row.split(" ", 1)[0] in VALIDATION_AGENTS)
    assert "(run 2)" in next(row for row in table_rows(during[1]) if row.startswith("tests"))

    final_rows = table_rows(text_of(live_console))
    ended = next(row for row in reversed(final_rows) if row.startswith("tests"))
    # the last run passed: its counts (unittest: test_add and test_mul), no cost column for a step without a model
    assert re.search(r"^tests\s+passed\s+\d+\.\ds\s+2 passed, 0 failed, 0 errors, 0 skipped, 2 in all", ended), ended
    assert "$" not in ended

    lines = text_of(plain_console).splitlines()
    started = [index for index, line in enumerate(lines) if re.match(r"\s+▶ tests\s+\S*python", line)]
    ended_at = [index for index, line in enumerate(lines) if "■ tests " in line]
    assert len(started) == len(ended_at) == 2 and started[0] < ended_at[0] < started[1] < ended_at[1]
    assert "tests failed" in lines[ended_at[0]] and "1 passed, 1 failed" in lines[ended_at[0]]
    assert "tests passed" in lines[ended_at[1]] and "2 passed, 0 failed" in lines[ended_at[1]]


def test_a_skipped_gate_is_a_skipped_row_with_its_reason() -> None:
    live = LiveProgress(console())
    agents = {"implementer": {"tier": "balanced", "model": "m"}, "reviewer": {"tier": "deep", "model": "m"}}
    live(RunEvent("run_started", detail="r1", data={"worktree": "/tmp/wt", "agents": agents}))
    live(RunEvent("gate", detail="skipped: only documentation changed", data={"after": "implementer"}))
    rows = table_rows(snapshot(live))
    assert [row.split(" ", 1)[0] for row in rows] == ["implementer", "tests", "reviewer"]
    assert re.search(r"^tests\s+skipped\s+only documentation changed", rows[1])
    # an older sender's events (no `after`, no counts) still show: the row goes last
    older = LiveProgress(console())
    older(RunEvent("run_started", detail="r1", data={"worktree": "/tmp/wt", "agents": agents}))
    older(RunEvent("gate", detail="passed"))
    rows = table_rows(snapshot(older))
    assert rows[-1].startswith("tests") and re.search(r"^tests\s+passed", rows[-1])


# ---------------------------------------------------------------- 2. the timeline and the critical path
def test_the_tests_are_a_lane_and_a_link_of_the_critical_path(
    calc_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: the timeline showed an empty gap where the tests ran, and the critical path ignored them."""
    result = run(calc_repo, FAILS_THEN_PASSES)
    assert result.state.status == "done", result.state.error
    records = read_metrics(result.run_dir / "metrics.jsonl")
    gate_timers = [t for t in of_kind(records, TimerRecord) if t.name == "test_gate"]
    assert len(gate_timers) == result.state.gate.runs == 2

    target = tmp_path / "timeline.svg"
    code, out, err = cli(capsys, "report", "--repo", str(calc_repo), "--timeline", str(target), "--json")
    assert code == 0, err
    data = json.loads(out)
    path = data["critical_path"]
    assert path[path.index("tests") - 1] == "implementer" and path[path.index("tests") + 1] in VALIDATION_AGENTS
    gate_s = sum(t.duration_s for t in gate_timers)
    assert data["critical_path_s"] >= gate_s > 0
    assert data["gate"]["duration_s"] == pytest.approx(gate_s)

    svg = target.read_text(encoding="utf-8")
    labels = re.findall(r'<text x="10" y="(\d+)">([^<]+)</text>', svg)
    lane_of = {name: int(y) for y, name in labels}
    order = [name for _, name in labels]
    assert order.index("tests") == order.index("implementer") + 1
    gate_bars = re.findall(rf'<rect x="([\d.]+)" y="{lane_of["tests"] - 16}" width="([\d.]+)" height="22" rx="3" '
                           rf'fill="{GATE_COLOUR}"', svg)  # fmt: skip
    assert len(gate_bars) == 2
    assert 'stroke="#d32f2f"' in svg.split(f'fill="{GATE_COLOUR}"')[1].split(">", 1)[0]  # on the critical path
    # the tests run between the implementer's runs and before the validation agents start
    implementer_runs = sorted(
        float(x)
        for x in re.findall(rf'<rect x="([\d.]+)" y="{lane_of["implementer"] - 16}" width="[\d.]+" height="22"', svg)
    )
    reviewer_start = min(
        float(x) for x in re.findall(rf'<rect x="([\d.]+)" y="{lane_of["reviewer"] - 16}" width="[\d.]+"', svg)
    )
    starts = sorted(float(x) for x, _ in gate_bars)
    assert implementer_runs[0] <= starts[0] <= implementer_runs[1] <= starts[1] <= reviewer_start


def test_an_agents_own_test_runs_are_not_the_gate(make_repo: Any) -> None:
    """RunTests inside an agent is the agent's time: its timer is not a run of the gate."""
    from scripts import call

    repo = make_repo(CALC_FILES)
    implementer = [
        tools(edit_mul(), text="Adding mul."),
        tools(call("RunTests"), text="Checking."),
        final("## Changes\n- Added mul; the tests pass."),
    ]
    result = run(repo, implementer)
    assert result.state.status == "done", result.state.error
    timers = [t.name for t in of_kind(read_metrics(result.run_dir / "metrics.jsonl"), TimerRecord)]
    assert timers.count("test_gate") == result.state.gate.runs == 1
    assert timers.count("agent_tests") == 1


# ---------------------------------------------------------------- 3. `autodev report`
def test_report_of_a_failed_run_shows_the_error_and_the_tests(
    calc_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: `autodev report` on a failed run showed neither the error nor the pass/fail counts."""
    result = run(calc_repo, ALWAYS_FAILS)
    assert result.state.status == "failed"
    code, out, err = cli(capsys, "report", "--repo", str(calc_repo))
    assert code == 0, err
    out = re.sub(r"\n {15}(?=\S)", " ", out)  # a long command or path wraps at 80 columns, under its label
    assert re.search(r"^error:\s+tests still fail after 2 fix attempt\(s\)", out, re.MULTILINE), out
    assert re.search(r"^tests\s+failed\s+3 run\(s\), \d+\.\d\ds \(last \d+\.\d\ds\), exit 1$", out, re.MULTILINE)
    assert re.search(r"^  command\s+\S*python\S* -m unittest discover -s tests -t \. -q$", out, re.MULTILINE)
    environment = result.state.gate.environment or "not recorded"  # recorded once the run knows it
    assert re.search(rf"^  environment\s+{re.escape(environment)}$", out, re.MULTILINE)
    assert re.search(r"^  counts\s+1 passed, 1 failed, 0 errors, 0 skipped, 2 in all \(unittest\)$", out, re.MULTILINE)
    assert re.search(r"^  failing\s+.*test_mul", out, re.MULTILINE)
    assert re.search(r"; tests \d+\.\d\ds$", out, re.MULTILINE) and re.search(
        r"^overlap\s+\d+\.\d\d ", out, re.MULTILINE
    )

    code, out, err = cli(capsys, "report", "--repo", str(calc_repo), "--json")
    data = json.loads(out)
    assert data["error"] == result.state.error
    gate = data["gate"]
    assert gate["status"] == "failed" and gate["runs"] == 3 and gate["exit_code"] == 1
    assert gate["counts"] == {"runner": "unittest", "passed": 1, "failed": 1, "errors": 0, "skipped": 0, "total": 2}
    assert any("test_mul" in name for name in gate["failing"])
    assert gate["environment"] == result.state.gate.environment and gate["after"] == "implementer"


def test_the_report_section_is_redacted(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A state.json written by hand (or by an older autodev) with a key in it: the report does not repeat it."""
    key = "sk-ant-api03-" + "A1b2C3d4" * 12
    repo = make_repo()
    run_dir = repo / ".autodev" / "runs" / "20260101-120000-aaaaaa"
    run_dir.mkdir(parents=True)
    state = RunState("20260101-120000-aaaaaa", "r", "", "", "", "", status="failed", error=f"tests fail: {key}")
    state.gate.ran(False, 1, ["pytest", f"--token={key}"], 1.5)
    state.gate.tests = GateTests("pytest", 0, 1, 0, 0, 1, failing=[f"test_key[{key}]"])
    state.gate.environment = f"configured: TOKEN={key}"
    (run_dir / "state.json").write_text(json.dumps(state.to_json()), encoding="utf-8")
    (run_dir / "metrics.jsonl").write_text("", encoding="utf-8")
    for args in ((), ("--json",)):
        code, out, err = cli(capsys, "report", "--repo", str(repo), *args)
        assert code == 0, err
        assert key not in out and "[REDACTED" in out
        assert "tests fail:" in out and "test_key[" in out and "configured: TOKEN=" in out


# ---------------------------------------------------------------- 4. the section is a record
def test_the_gate_section_is_one_typed_record() -> None:
    """A later line (the base commit's results) is one more field: the section is a dataclass with the
    counts as their own record, and it is what `--json` writes."""
    state = RunState("r1", "request", "", "", "", "")
    assert run_report(state, [], {}).gate is None  # never reached: no section
    state.gate.ran(True, 0, ["pytest", "-q"], 0.25)
    state.gate.tests = GateTests("pytest", 3, 0, 0, 1, 4)
    section = run_report(state, [], {}).gate
    assert isinstance(section, GateSection) and isinstance(section.counts, GateCounts)
    assert section.command == "pytest -q" and section.counts.describe() == (
        "3 passed, 0 failed, 0 errors, 1 skipped, 4 in all (pytest)"
    )
    assert run_report(state, [], {}).to_json()["gate"]["counts"]["total"] == 4
    assert section.environment is None  # not recorded yet: the report says so
    state.gate.environment = "venv (/src/.venv): the checkout's .venv"
    assert run_report(state, [], {}).gate == dataclasses.replace(section, environment=state.gate.environment)


def test_state_keeps_where_the_gate_ran(tmp_path: Path) -> None:
    state = RunState("r1", "request", "", "", "", "")
    state.gate.after, state.gate.environment = "implementer", "uv (/src/.venv): uv.lock"
    StateStore(tmp_path / "state.json", state).save()
    loaded = StateStore.load(tmp_path / "state.json").gate
    assert (loaded.after, loaded.environment) == ("implementer", "uv (/src/.venv): uv.lock")
    assert RunState.from_json({**state.to_json(), "gate": {}}).gate.after is None  # an older file


def test_the_tests_sit_between_the_gate_agent_and_the_validation_phase_on_a_hand_made_graph() -> None:
    """The critical path through the tests: the gate agent's chain, then the tests, then the longest
    validation agent; an agent of the build phase never waits for them."""
    needs = {"plan": [], "docs": [], "build": ["plan", "docs"], "review": ["build"], "audit": ["build"]}
    graph = with_gate(needs, "build")
    assert graph["tests"] == ["build"]
    assert graph["review"] == ["build", "tests"] and graph["audit"] == ["build", "tests"]
    assert graph["plan"] == [] and graph["build"] == ["plan", "docs"]
    durations = {"plan": 1.0, "docs": 2.0, "build": 3.0, "review": 1.0, "audit": 4.0, "tests": 85.0}
    assert critical_path(graph, durations) == (["docs", "build", "tests", "audit"], 94.0)
    assert with_gate(needs, None) == needs and with_gate(needs, "gone") == needs  # place unknown: unchanged
