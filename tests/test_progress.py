"""Live progress: a table on a terminal (one row per agent, the cost so far), plain lines elsewhere."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console
from scripts import CALC_FILES, REQUEST, feature_script

from autodev.apps.cli.progress import LiveProgress, ProgressPrinter, make_progress
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.events import RunEvent

AGENTS = {
    "researcher-local": {"tier": "fast", "model": "claude-haiku-5-5"},
    "researcher-web": {"tier": "balanced", "model": "claude-sonnet-5-5"},
    "planner": {"tier": "balanced", "model": "claude-sonnet-5-5"},
    "implementer": {"tier": "balanced", "model": "claude-sonnet-5-5"},
    "security-auditor": {"tier": "deep", "model": "claude-opus-5-5"},
    "doc-master": {"tier": "fast", "model": "claude-haiku-5-5"},
}


def console(*, terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), width=160, force_terminal=terminal, color_system=None)


def text_of(target: Console) -> str:
    file = target.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def finished(status: str, seconds: float, cost: float | None, error: str | None = None) -> dict[str, Any]:
    return {
        "duration_s": seconds,
        "turns": 3,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cost_usd": cost,
        "error": error,
    }


def turn(turns: int, tokens_in: int, tokens_out: int, cost: float | None) -> RunEvent:
    return RunEvent(
        "agent_turn",
        "implementer",
        data={"turns": turns, "input_tokens": tokens_in, "output_tokens": tokens_out, "cost_usd": cost},
    )


EVENTS = [
    RunEvent("run_started", detail="20260101-120000-abcdef", data={"worktree": "/tmp/wt", "agents": AGENTS}),
    RunEvent("agent_skipped", "researcher-web", "the provider has no web search"),
    RunEvent("agent_started", "researcher-local", "claude-haiku-5-5", data={"tier": "fast", "run": 1}),
    RunEvent("agent_finished", "researcher-local", "done", data=finished("done", 2.5, 0.0100)),
    RunEvent("agent_started", "planner", "claude-sonnet-5-5", data={"tier": "balanced", "run": 1}),
    RunEvent("agent_finished", "planner", "failed", data=finished("failed", 1.25, 0.0020, "model error: overloaded")),
    RunEvent("agent_started", "implementer", "claude-sonnet-5-5", data={"tier": "balanced", "run": 1}),
    turn(1, 5000, 120, 0.0010),
    turn(2, 9000, 450, 0.0030),
    RunEvent("agent_blocked", "doc-master", "blocked: planner failed"),
    RunEvent("gate", detail="passed"),
]


def rows(text: str, names: Any = AGENTS) -> dict[str, str]:
    """Each agent's table row, by agent name (a row starts with its agent)."""
    found = {}
    for line in text.splitlines():
        name = line.split(" ", 1)[0]
        if name in names:
            found[name] = line
    return found


def test_live_table_shows_every_state_and_the_cost_so_far() -> None:
    target = console()
    with LiveProgress(target) as live:
        for event in EVENTS:
            live(event)
    text = text_of(target)
    assert "run 20260101-120000-abcdef" in text
    table = rows(text)
    assert set(table) == set(AGENTS)
    assert re.search(r"waiting\s+deep\s+claude-opus-5-5", table["security-auditor"])
    assert re.search(
        r"skipped\s+balanced\s+claude-sonnet-5-5\s+the provider has no web search", table["researcher-web"]
    )
    assert re.search(r"done\s+fast\s+claude-haiku-5-5\s+2\.5s\s+\$0\.0100", table["researcher-local"])
    assert re.search(
        r"failed\s+balanced\s+claude-sonnet-5-5\s+1\.2s\s+\$0\.0020\s+model error: overloaded", table["planner"]
    )
    # running: elapsed time, turns, tokens in/out and cost so far, from the latest turn
    assert re.search(
        r"running\s+balanced\s+claude-sonnet-5-5\s+\d+\.\ds\s+2\s+9,000/450\s+\$0\.0030", table["implementer"]
    )
    assert re.search(r"cancelled\s+fast\s+claude-haiku-5-5\s+blocked: planner failed", table["doc-master"])
    # finished 0.0100 + 0.0020, running 0.0030
    assert "cost so far $0.0150" in text
    assert "tests passed" in text


def test_an_unpriced_model_makes_the_cost_so_far_unknown() -> None:
    target = console()
    with LiveProgress(target) as live:
        live(EVENTS[0])
        live(EVENTS[2])
        live(RunEvent("agent_finished", "researcher-local", "done", data=finished("done", 1.0, None)))
    text = text_of(target)
    assert re.search(r"done\s+fast\s+claude-haiku-5-5\s+1\.0s\s+n/a", rows(text)["researcher-local"])
    assert "cost so far n/a (a model has no price)" in text


def test_a_rerun_counts_its_cost_once_and_shows_the_remediation_note() -> None:
    target = console()
    with LiveProgress(target) as live:
        live(EVENTS[0])
        live(RunEvent("agent_started", "implementer", "claude-sonnet-5-5", data={"tier": "balanced", "run": 1}))
        live(turn(1, 4000, 100, 0.0040))
        live(RunEvent("agent_finished", "implementer", "done", data=finished("done", 2.0, 0.0040)))
        live(RunEvent("note", "implementer", "remediation cycle 1: changes requested by reviewer"))
        live(RunEvent("agent_started", "implementer", "claude-sonnet-5-5", data={"tier": "balanced", "run": 2}))
        # the rerun has not reported a turn yet: its row starts from zero, the finished run counts once
        assert "cost so far $0.0040" in _render_text(live)
        live(turn(1, 1000, 50, 0.0010))
    text = text_of(target)
    assert "cost so far $0.0050" in text
    assert "remediation cycle 1: changes requested by reviewer" in text
    assert re.search(
        r"running\s+balanced\s+claude-sonnet-5-5\s+\d+\.\ds\s+1\s+1,000/50\s+\$0\.0010", rows(text)["implementer"]
    )


def _render_text(live: LiveProgress) -> str:
    snapshot = console()
    snapshot.print(live._render())
    return text_of(snapshot)


def test_make_progress_prints_plain_lines_when_not_a_terminal() -> None:
    target = console()
    progress = make_progress(target)
    assert isinstance(progress, ProgressPrinter) and not isinstance(progress, LiveProgress)
    with progress:
        for event in EVENTS:
            progress(event)
    lines = text_of(target).splitlines()
    assert lines[0] == "run 20260101-120000-abcdef in /tmp/wt"
    assert any(re.fullmatch(r"\s+- researcher-web\s+skipped: the provider has no web search", line) for line in lines)
    assert any(re.fullmatch(r"\s+▶ researcher-local\s+fast\s+claude-haiku-5-5", line) for line in lines)
    done = next(line for line in lines if "✓ researcher-local" in line)
    assert "2.50s  3 turns  1,200 in / 300 out  $0.0100" in done
    failed = next(line for line in lines if "✗ planner" in line)
    assert "$0.0020" in failed and "model error: overloaded" in failed
    assert any("doc-master" in line and "blocked: planner failed" in line for line in lines)
    assert any("tests passed" in line for line in lines)
    assert not any("\x1b[" in line for line in lines)  # no cursor movement or colour codes in a pipe


def test_make_progress_is_live_on_a_terminal() -> None:
    assert isinstance(make_progress(console(terminal=True)), LiveProgress)


def test_a_real_run_drives_both_displays(make_repo: Any) -> None:
    live_console, plain_console = console(), console()
    live = LiveProgress(live_console)
    plain = make_progress(plain_console)

    def both(event: RunEvent) -> None:
        live(event)
        plain(event)

    with live, plain:
        result = run_feature(
            REQUEST, make_repo(CALC_FILES), CliOverrides(provider="scripted"), both, ScriptedProvider(feature_script())
        )
    assert result.state.status == "done"
    table = rows(text_of(live_console), result.state.agents)
    assert set(table) == set(result.state.agents)
    for name, agent in result.state.agents.items():
        assert agent.status == "done"
        assert re.search(rf"^{name}\s+done\s+(fast|balanced|deep)\s+scripted-", table[name]), table[name]
    plain_text = text_of(plain_console)
    assert all(f"✓ {name}" in plain_text for name in result.state.agents)
    assert "cost so far n/a" in text_of(live_console)  # scripted-* model ids have no price


def test_the_test_step_lines_fit_80_columns_in_a_pipe() -> None:
    """The plain lines of the test step ran past 80 columns (issue 21: screens that fit 80 columns)."""
    # soft_wrap as the CLI's consoles have it (autodev.apps.cli.common): rich leaves the wrapping to us
    target = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None, soft_wrap=True)
    command = ["/home/someone/projects/textkit/.venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    counts = {"runner": "pytest", "passed": 1180, "failed": 0, "errors": 0, "skipped": 12, "total": 1192}
    progress = make_progress(target)
    with progress:
        progress(RunEvent("gate", detail="started", data={"command": command, "attempt": 2}))
        progress(RunEvent("gate", detail="passed", data={"duration_s": 123.45, "tests": counts}))
    lines = text_of(target).splitlines()
    assert lines and all(len(line) <= 80 for line in lines), lines
    shown = " ".join(" ".join(lines).split())
    assert "no:cacheprovider (run 2)" in shown and "1180 passed" in shown and "1192 in all (pytest)" in shown
