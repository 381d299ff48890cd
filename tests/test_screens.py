"""Screens a newcomer reads, at 80 columns: `report` (two tables, a legend, `overlap` not `efficiency`), the
live view (each agent's current tool call, names shown whole), `status` (age, branch, cost), the batch
table (the request, not `f001-5e87bf`) and `context` (the snippets themselves; `--paths-only` the files).

Found (issue 21): the report table wrapped at 80 columns and its abbreviations (c.read, c.write, peak ctx,
handoff) were unexplained; "parallel efficiency" (agent time / wall) and bench's "efficiency" (bound / wall)
shared a name; the live table showed "researcher-…" twice and never the tool call an agent was on.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from run_fixture import SharedRun, shared_run

from autodev.apps.cli import batch as batch_cli
from autodev.apps.cli import common
from autodev.apps.cli.main import main
from autodev.apps.cli.progress import LiveProgress
from autodev.apps.cli.screen import fit, wrap, wrap_items
from autodev.core.records import AgentRecord, of_kind, read_metrics
from autodev.engines.batch_file import FeatureResult
from autodev.run.events import RunEvent, describe_call

WIDTH = 80


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    return shared_run(tmp_path_factory.getbasetemp())


@pytest.fixture
def narrow() -> Iterator[None]:
    """The CLI's console 80 columns wide, as in a standard terminal (restored after)."""
    before = common.out.width
    common.out.width = WIDTH
    try:
        yield
    finally:
        common.out.width = before


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def too_long(text: str, width: int = WIDTH) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


# ---------------------------------------------------------------- report
def test_report_at_columns_80_fits_and_explains_its_words(demo: SharedRun) -> None:
    """As a user sees it: the installed command, COLUMNS=80, output to a pipe."""
    autodev = Path(sys.executable).parent / "autodev"
    env = {**os.environ, "COLUMNS": str(WIDTH)}
    done = subprocess.run(
        [str(autodev), "report", "--repo", str(demo.repo)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert too_long(out) == []
    header = next(line for line in out.splitlines() if line.startswith("agent") and "input" in line)
    for word in ("input", "output", "cache read", "cache write", "peak context", "handoff"):
        assert word in header
    legend = " ".join(out.split())
    for explained in ("input = prompt tokens", "cache read / cache write =", "peak context = the largest prompt"):
        assert explained in legend
    assert "handoff = the note" in legend
    assert "c.read" not in out and "peak ctx" not in out
    assert re.search(r"^overlap\s+\d+\.\d\d \(agent time / wall", out, re.MULTILINE)
    assert "efficiency" not in out  # bench's word (bound / wall), not this one
    for name in demo.state["agents"]:  # every agent in both tables (and the tool calls), its name whole
        assert len(re.findall(rf"^{name}\s", out, re.MULTILINE)) >= 2, name
    assert re.search(r"^tests\s+passed\s+1 run\(s\)", out, re.MULTILINE)


def test_report_all_and_long_text_fit_80_columns(
    demo: SharedRun, narrow: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "report", "--all", "--repo", str(demo.repo))
    assert code == 0 and too_long(out) == []
    assert "p50 / p95: the median" in out
    assert re.search(rf"^{demo.run_id}\s+done\s+[\d.]+\s+\$\d\.\d{{4}}\s+Add a slugify", out, re.MULTILINE)


def test_wrapping_keeps_items_whole_and_cuts_with_an_ellipsis() -> None:
    items = ["agent_tests 8.92s", "analysers 0.88s", "build_phase 16.66s", "retrieval 1.82s", "test_gate 4.08s"]
    lines = wrap_items(items, 40, label="timers  ")
    assert all(len(line) <= 40 for line in lines)
    assert " ".join(" ".join(lines).split()) == "timers " + ", ".join(items)
    assert all(re.search(r"\ds,?$", line) for line in lines)  # never "retrieval" here and "1.82s" there
    path = wrap_items(["researcher-local", "planner", "test-master"], 30, label="path ", joiner=" ->", indent=2)
    assert path == ["path researcher-local ->", "  planner -> test-master"]
    assert fit("a  b\nc", 10) == "a b c" and fit("abcdefghijkl", 6) == "abcde…"
    assert wrap("security-auditor and researcher-local", 20) == ["security-auditor and", "researcher-local"]


# ---------------------------------------------------------------- the live view
AGENTS = {
    "researcher-local": {"tier": "fast", "model": "claude-haiku-5-5"},
    "researcher-web": {"tier": "balanced", "model": "claude-sonnet-5-5"},
    "implementer": {"tier": "balanced", "model": "claude-sonnet-5-5"},
}


def live_text(events: list[RunEvent], width: int) -> str:
    target = Console(file=io.StringIO(), width=width, color_system=None)
    live = LiveProgress(target)
    for event in events:
        live(event)
    snapshot = Console(file=io.StringIO(), width=width, color_system=None)
    snapshot.print(live._render())
    file = snapshot.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


LIVE_EVENTS = [
    RunEvent("run_started", detail="20260101-120000-abcdef", data={"worktree": "/tmp/wt", "agents": AGENTS}),
    RunEvent("agent_started", "researcher-local", "claude-haiku-5-5", data={"tier": "fast", "run": 1}),
    RunEvent("agent_started", "researcher-web", "claude-sonnet-5-5", data={"tier": "balanced", "run": 1}),
    RunEvent("agent_tool", "researcher-local", "Grep slugify in textkit", data={"tool": "Grep"}),
    RunEvent("agent_tool", "researcher-local", "Read textkit/strings.py", data={"tool": "Read"}),
    RunEvent("agent_tool", "researcher-web", "WebSearch python slugify", data={"tool": "WebSearch"}),
]


def test_live_view_at_80_columns_names_each_agent_once_and_its_current_tool_call() -> None:
    text = live_text(LIVE_EVENTS, WIDTH)
    assert too_long(text) == []
    assert "…" not in text  # "researcher-…" twice: the names were cut to the same thing
    lines = text.splitlines()
    local = next(i for i, line in enumerate(lines) if line.startswith("researcher-local "))
    assert "running" in lines[local]
    assert lines[local + 1].strip() == "↳ Read textkit/strings.py"  # the latest call, not the Grep before it
    web = next(i for i, line in enumerate(lines) if line.startswith("researcher-web "))
    assert lines[web + 1].strip() == "↳ WebSearch python slugify"
    assert not any("implementer" in line and "↳" in line for line in lines)  # waiting: no call yet


def test_live_view_on_a_wide_console_puts_the_call_on_the_agents_line() -> None:
    text = live_text(LIVE_EVENTS, 160)
    line = next(line for line in text.splitlines() if line.startswith("researcher-local "))
    assert re.search(r"running\s+fast\s+claude-haiku-5-5\s+\d+\.\ds.*Read textkit/strings\.py$", line), line
    assert "now / result" in text


def test_a_finished_agent_no_longer_shows_its_last_call() -> None:
    done = {"duration_s": 1.0, "turns": 2, "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.001, "error": None}
    text = live_text([*LIVE_EVENTS, RunEvent("agent_finished", "researcher-local", "done", data=done)], WIDTH)
    assert "Read textkit/strings.py" not in text and "WebSearch python slugify" in text


def test_a_real_run_reports_each_tool_call_as_it_starts(demo: SharedRun) -> None:
    calls = [event for event in demo.events if event.kind == "agent_tool"]
    assert calls and {event.agent for event in calls} <= set(demo.state["agents"])
    shown = [event.detail for event in calls]
    assert "Read textkit/strings.py" in shown
    assert any(detail.startswith("Edit textkit/strings.py") for detail in shown)
    assert all(event.data["tool"] == event.detail.split(" ", 1)[0] for event in calls)
    # each call is reported once, before it runs: as many events as the run's recorded tool calls
    records = of_kind(read_metrics(demo.run_dir / "metrics.jsonl"), AgentRecord)
    recorded = sum(sum(record.tool_calls.values()) for record in records)
    assert len(calls) == recorded


def test_a_call_is_described_by_what_it_is_about() -> None:
    assert describe_call("Read", {"file_path": "a/b.py", "offset": 3}) == "Read a/b.py"
    assert describe_call("Grep", {"pattern": "def slug", "path": "textkit"}) == "Grep def slug in textkit"
    assert describe_call("Glob", {"pattern": "**/*.py"}) == "Glob **/*.py"
    assert describe_call("Bash", {"command": "pytest -q\n  tests/"}) == "Bash pytest -q tests/"
    assert describe_call("RunTests", {}) == "RunTests"
    long = describe_call("Write", {"file_path": "x" * 500, "content": "..."})
    assert len(long) == 160 and long.endswith("…")


# ---------------------------------------------------------------- status and batch
def test_status_shows_age_branch_and_cost_in_80_columns(
    demo: SharedRun, narrow: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "status", "--repo", str(demo.repo))
    assert code == 0 and too_long(out) == []
    assert re.search(r"^run\s+status\s+stage\s+age\s+cost$", out, re.MULTILINE)
    cost = f"${demo.state['cost_usd']:.4f}"
    assert re.search(rf"^{demo.run_id}\s+done\s+finished\s+\d+[smhd]\s+{re.escape(cost)}$", out, re.MULTILINE), out
    assert f"  branch {demo.state['branch']}" in out
    assert "  Add a slugify(text) function" in out
    code, out, _ = cli(capsys, "status", "--repo", str(demo.repo), "--json")
    row = json.loads(out)["runs"][0]
    assert row["branch"] == demo.state["branch"] and row["cost_usd"] == demo.state["cost_usd"]
    assert row["created_at"] == demo.state["created_at"]


def feature(index: int, request: str, status: str = "done") -> FeatureResult:
    return FeatureResult(
        id=f"f00{index}-5e87bf",
        request=request,
        repo="/repo",
        status=status,
        run_id=f"20260101-12000{index}-abcdef",
        duration_s=12.5,
        input_tokens=81_760,
        output_tokens=2_805,
        cost_usd=0.1432,
        error="agent failed: implementer" if status != "done" else None,
    )


RESULTS = [
    feature(1, "Add a slugify(text) function to textkit that lowercases the text, drops punctuation and joins"),
    feature(2, "Add a --verbose flag", "failed"),
]


def table(width: int, capsys: pytest.CaptureFixture[str]) -> str:
    before = common.out.width
    common.out.width = width
    try:
        batch_cli.print_summary(RESULTS)
    finally:
        common.out.width = before
    return capsys.readouterr().out


def test_batch_table_names_each_feature_by_its_request(capsys: pytest.CaptureFixture[str]) -> None:
    out = table(WIDTH, capsys)
    assert too_long(out) == [] and "f001-5e87bf" not in out
    assert re.search(r"^Add a slugify\(text\) function.*…\s+done\s+12\.5 s\s+81,760\s+2,805\s+\$0\.1432$", out, re.M)
    assert re.search(r"^Add a --verbose flag\s+failed", out, re.MULTILINE)
    assert "Add a --verbose flag: agent failed: implementer" in out
    wide = table(160, capsys)
    assert "20260101-120001-abcdef" in wide and "joins" in wide  # room for the run id and the whole request


# ---------------------------------------------------------------- context
def test_context_prints_the_snippets_and_paths_only_the_files(
    demo: SharedRun, narrow: None, capsys: pytest.CaptureFixture[str]
) -> None:
    request = "count the words of a text"
    code, out, _ = cli(capsys, "context", request, "--budget", "600", "--repo", str(demo.repo))
    assert code == 0
    assert re.search(r"^textkit/strings\.py\s+score \d+\.\d{3}, \d+ tokens$", out, re.MULTILINE)
    assert re.search(r"^lines \d+-\d+ \(word_count\)$", out, re.MULTILINE)
    assert "def word_count(text: str) -> int:" in out  # the code itself, as the agents receive it
    code, paths, _ = cli(capsys, "context", request, "--budget", "600", "--repo", str(demo.repo), "--paths-only")
    assert code == 0 and "def word_count" not in paths
    assert re.search(r"^\s+\d+\.\d{3}\s+\d+\s+textkit/strings\.py$", paths, re.MULTILINE)
