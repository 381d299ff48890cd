"""The pieces of issue -> pull request that need no git or gh: the issue file's parsing, the commit
message and the pull request body built from a run's record (issue 18, items 1 and 2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from autodev.core.errors import UserError
from autodev.run.publish.body import BODY_CHARS, ChangedTests, pr_body, pr_title
from autodev.run.publish.commit_message import condensed, result_message, title_of
from autodev.run.publish.issue_in import read_issue
from autodev.run.report import run_report
from autodev.run.sections import GateTests, IssueRef
from autodev.run.state import AgentState, DiffStat, RunState

SECRET = "sk-ant-" + "api03-" + "Q7wE9rT2yU4iO6pA8sD1fG3h"


def done_state(**agents: AgentState) -> RunState:
    state = RunState(
        run_id="20261203-120000-abcdef",
        request="Multiply two numbers\n\nmore text",
        repo="/repo",
        worktree="/repo/.autodev/worktrees/x",
        branch="autodev/20261203-120000-abcdef",
        base_commit="b" * 40,
        status="done",
    )
    state.agents = dict(agents)
    state.pipeline = {name: [] for name in agents}
    return state


def ran(handoff: str, model: str = "claude-sonnet-5-5") -> AgentState:
    return AgentState(status="done", model=model, handoff=handoff, runs=1, ended_runs=1)


# ---------------------------------------------------------------- the issue file
@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        ("# Add mul\n\nIt should multiply.\n", "Add mul", "It should multiply."),
        ("Preamble.\n\n# Add mul ##\nBody\n", "Add mul", "Body"),
        ("\n\nAdd mul\nBody line\n", "Add mul", "Body line"),  # no heading: the first line that says something
        ("## Sub only\ntext\n", "## Sub only", "text"),  # a `##` heading is not the title line
    ],
)
def test_an_issue_file_gives_its_first_heading_as_the_title(tmp_path: Path, text: str, title: str, body: str) -> None:
    path = tmp_path / "issue.md"
    path.write_text(text, encoding="utf-8")
    issue = read_issue(str(path), tmp_path)
    assert issue.ref == IssueRef(title=title, file=str(path.resolve()))
    assert issue.request == f"{title}\n\n{body}"


def test_an_empty_issue_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "issue.md"
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(UserError, match="is empty"):
        read_issue(str(path), tmp_path)


# ---------------------------------------------------------------- the commit message
def test_condensed_turns_headings_into_lines_and_cuts_long_handoffs() -> None:
    assert condensed("## Changes\n\n\n- a\n- b\n") == "Changes:\n\n- a\n- b"
    long = "\n".join(f"line {i}" for i in range(40))
    assert condensed(long, lines=3) == "line 0\nline 1\nline 2\n[...]"
    assert condensed("x" * 50 + "\n" + "y" * 50, chars=60) == "x" * 50 + "\n[...]"


def test_the_title_is_redacted_before_it_is_cut() -> None:
    state = done_state()
    state.request = f"Use {SECRET} and " + "w" * 100
    title = title_of(state)
    assert SECRET not in title and "[REDACTED:" in title
    assert len(title) == 72 and title.endswith("...")


def test_the_commit_message_has_a_summary_decisions_and_trailers_and_no_secret() -> None:
    state = done_state(
        planner=ran("## Plan\n1. Put mul next to add."),
        implementer=ran(f"## Changes\n- Added mul (token {SECRET})."),
        reviewer=ran("VERDICT: APPROVE", model="claude-haiku-5-5"),
        skipped=AgentState(status="skipped", model="claude-opus-5-5"),
    )
    state.issue = IssueRef("Multiply two numbers", 7, "https://github.com/o/r/issues/7")
    message = result_message(state)
    subject, _, rest = message.partition("\n\n")
    assert subject == "autodev: Multiply two numbers"
    assert "Summary (implementer):\nChanges:\n- Added mul" in rest
    assert "Decisions (planner):\nPlan:\n1. Put mul next to add." in rest
    assert SECRET not in message
    trailers = message.rsplit("\n\n", 1)[1].splitlines()
    assert trailers[0] == f"Autodev-Run: {state.run_id}"
    assert trailers[1] == "Refs: #7"
    assert trailers[2].startswith("Generated-by: autodev ")
    assert trailers[2].endswith("(claude-sonnet-5-5, claude-haiku-5-5)")  # the skipped agent's model is not named


# ---------------------------------------------------------------- the pull request body
def test_the_body_compares_with_the_baseline_when_the_run_recorded_one() -> None:
    state = done_state(implementer=ran("## Changes\n- mul"))
    state.gate.status, state.gate.runs, state.gate.exit_code, state.gate.command = "passed", 1, 0, ["pytest", "-q"]
    state.gate.tests = GateTests("pytest", 5, 1, 0, 0, 6, ["t::old"])
    # a baseline as the baseline step records it (state.baseline, gate.verdict)
    state.baseline = SimpleNamespace(status="recorded", tests=GateTests("pytest", 4, 1, 0, 0, 5, ["t::old"]))  # type: ignore[attr-defined]
    state.gate.verdict = SimpleNamespace(by="baseline", preexisting=["t::old"], fixed=0)  # type: ignore[attr-defined]
    body = pr_body(state, run_report(state, [], state.pipeline), ChangedTests(["tests/test_mul.py"], []))
    assert "- Before (base `bbbbbbbbbbbb`): 4 passed, 1 failed (5 tests, pytest)" in body
    assert "- After: **passed**: 5 passed, 1 failed (6 tests, pytest)" in body
    assert "Failing before this change too (not blamed): `t::old`" in body
    assert "No review agent was in this run's pipeline." in body


def test_a_huge_body_is_cut_to_githubs_limit_and_keeps_closes() -> None:
    state = done_state(planner=ran("x\n" * 50_000), reviewer=ran("VERDICT: APPROVE\n" + "finding\n" * 50_000))
    state.issue = IssueRef("Multiply", 7)
    many = [f"tests/test_{i:05d}_{'n' * 40}.py" for i in range(5000)]
    body = pr_body(state, run_report(state, [], state.pipeline), ChangedTests(many, []))
    assert len(body) <= BODY_CHARS
    assert "Closes #7" in body
    assert pr_title(state) == "Multiply"


def test_a_long_diff_stat_keeps_its_summary_line() -> None:
    state = done_state()
    stat = "".join(f" f{i}.py | 1 +\n" for i in range(300)) + " 300 files changed, 300 insertions(+)\n"
    state.diff = DiffStat(300, 300, 0, stat)
    body = pr_body(state, run_report(state, [], state.pipeline), ChangedTests())
    assert " f97.py | 1 +\n ... 202 more files\n 300 files changed, 300 insertions(+)\n```" in body
    assert " f98.py" not in body
