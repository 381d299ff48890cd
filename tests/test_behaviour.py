"""Issue 20's behaviour suite: how real models go wrong, each habit replayed END TO END through the pipeline.

Every case is a scripted run of the whole feature pipeline on one shared calculator repository (real
git, real worktree, the project's unittest suite as the gate) in which one agent behaves as
Haiku-class or small local models do: a verdict line written loosely, a tool call written as text,
a placeholder write, Read's line numbers copied into an Edit, a test weakened to pass, an endless
tool loop, a handoff without its sections. Each proves the pipeline recovers, or fails saying why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    ADDRESSED,
    APPROVE,
    CALC_FILES,
    MUL_IMPL,
    PLAN,
    REQUEST,
    WRONG_MUL_IMPL,
    call,
    edit_mul,
    feature_script,
    final,
    fix_mul,
    git,
    implemented,
    settle,
    tools,
    trust_repo,
)

from autodev.agent.corrections import missing_sections
from autodev.agent.verdicts import ASK_FOR_VERDICT
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.fakes.scripted import ScriptedProvider

FINDING = "1. calc/__init__.py:7 — `mul` has no docstring — add one"
DOCSTRING = call(
    "Edit",
    file_path="calc/__init__.py",
    old_string="def mul(a, b):\n",
    new_string='def mul(a, b):\n    """Multiply."""\n',
)
PINNED = "requests==2.31.0"


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One calculator repository for every case: each run works on a worktree and branch of its own."""
    repo = tmp_path_factory.mktemp("behaviour") / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    for rel, content in {**CALC_FILES, "requirements.txt": f"{PINNED}\n"}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "-m", "initial")
    settle(repo)
    yield repo


@pytest.fixture
def repo(shared_repo: Path) -> Path:
    trust_repo(shared_repo)  # each test has its own user config dir: approve the test command again
    return shared_repo


def run(repo: Path, overrides: dict[str, list[dict[str, Any]]]) -> tuple[RunResult, dict[str, Any]]:
    result = run_feature(
        REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script(overrides))
    )
    return result, json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))


def sessions(result: RunResult, agent: str) -> list[str]:
    """Each run of `agent` as its session file recorded it (task, turns, corrective turns)."""
    text = (result.run_dir / "sessions" / f"{agent}.md").read_text(encoding="utf-8")
    return [part for part in re.split(r"^(?=# [a-z-]+(?: \(run \d+\))? — model )", text, flags=re.M) if part]


def task(session: str) -> str:
    return session.split("## Task", 1)[1].split("## Turn 1", 1)[0]


def branch_file(repo: Path, state: dict[str, Any], path: str) -> str:
    return git(repo, "show", f"{state['branch']}:{path}")


# ---------------------------------------------------------------- verdicts, as real models write them
APPROVING = {
    "approved": "Checked: calc/__init__.py\nNo findings.\nAPPROVED",
    "approve with a remark": "Checked: calc/__init__.py\nVERDICT: APPROVE — no blocking findings",
    "final verdict": "Checked: calc/__init__.py\n- (non-blocking) naming is fine.\n\nFinal verdict: APPROVE",
}
REQUESTING = {
    "request-changes": f"Checked: calc/__init__.py\n{FINDING}\nREQUEST-CHANGES",
    "changes_requested": f"Checked: calc/__init__.py\n{FINDING}\n**Verdict:** CHANGES_REQUESTED",
}


@pytest.mark.parametrize("reply", APPROVING.values(), ids=APPROVING)
def test_a_loosely_written_approval_is_read_as_one(repo: Path, reply: str) -> None:
    result, state = run(repo, {"reviewer": [final(reply)]})
    assert state["status"] == "done", state.get("error")
    assert state["agents"]["implementer"]["runs"] == 1  # no remediation cycle
    assert len(sessions(result, "reviewer")) == 1 and ASK_FOR_VERDICT not in sessions(result, "reviewer")[0]


@pytest.mark.parametrize("reply", REQUESTING.values(), ids=REQUESTING)
def test_a_loosely_written_request_sends_the_change_back_with_its_findings(repo: Path, reply: str) -> None:
    implementer = [tools(edit_mul()), final(implemented()), tools(DOCSTRING), final(ADDRESSED)]
    overrides = {"implementer": implementer, "reviewer": [final(reply), final(APPROVE)]}
    result, state = run(repo, overrides)
    assert state["status"] == "done", state.get("error")
    assert '"""Multiply."""' in branch_file(repo, state, "calc/__init__.py")
    second_review = task(sessions(result, "reviewer")[1])
    # the reviewer's rerun: its cycle and its own findings, checked first
    assert "review round 2" in second_review and "`mul` has no docstring" in second_review
    assert "Check them first" in second_review
    # the implementer's rerun: its own earlier diff stat and `## Changes`
    rerun = task(sessions(result, "implementer")[1])
    assert "# Your previous attempt" in rerun and "calc/__init__.py" in rerun
    assert "Added `mul(a, b)` to calc/__init__.py." in rerun


ECHOED_TEMPLATES = (
    "Checked: <files/areas, one line>\n1. path/to/file.py:LINE — problem — concrete fix\nVERDICT: REQUEST_CHANGES\n\n"
    "or\n\nChecked: <files/areas, one line>\n- (non-blocking) path:LINE — note\nVERDICT: APPROVE"
)
ECHOED_DIFF_LINE = "Checked: the diff, which adds this line to the docs:\n```diff\n+VERDICT: APPROVE\n```"


@pytest.mark.parametrize("reply", [ECHOED_TEMPLATES, ECHOED_DIFF_LINE], ids=["both templates", "a diff line"])
def test_an_echoed_verdict_is_never_an_approval_and_is_asked_for_once(repo: Path, reply: str) -> None:
    implementer = [tools(edit_mul()), final(implemented()), tools(DOCSTRING), final(ADDRESSED)]
    reviewer = [final(reply), final(f"{FINDING}\nVERDICT: REQUEST_CHANGES"), final(APPROVE)]
    result, state = run(repo, {"implementer": implementer, "reviewer": reviewer})
    assert state["status"] == "done", state.get("error")
    first = sessions(result, "reviewer")[0]
    assert ASK_FOR_VERDICT in first  # the re-ask, in the same conversation
    assert state["agents"]["implementer"]["runs"] == 2  # the answer to the re-ask decided: changes requested
    assert '"""Multiply."""' in branch_file(repo, state, "calc/__init__.py")


def test_a_verdict_missing_in_every_round_fails_the_run_clearly(repo: Path) -> None:
    reviewer = [final("Checked: calc\nLooks fine to me.")] * 6
    _, state = run(repo, {"reviewer": reviewer})
    assert state["status"] == "failed"
    assert "reviewer" in state["error"] and "no VERDICT line" in state["error"]


# ---------------------------------------------------------------- tools, as real models call them
CALL_AS_JSON = json.dumps({"name": "Edit", "arguments": {"file_path": "calc/__init__.py", "old_string": "x"}})
TOOL_CALLS_AS_TEXT = {
    "a JSON object": CALL_AS_JSON,
    "chat-template tags": f"I will add mul now.\n<tool_call>\n{CALL_AS_JSON}\n</tool_call>",  # Qwen/Hermes style
}


@pytest.mark.parametrize("as_text", TOOL_CALLS_AS_TEXT.values(), ids=TOOL_CALLS_AS_TEXT)
def test_a_tool_call_written_as_text_is_answered_and_then_made(repo: Path, as_text: str) -> None:
    implementer = [final(as_text), tools(edit_mul()), final(implemented())]
    result, state = run(repo, {"implementer": implementer})
    assert state["status"] == "done", state.get("error")
    assert "a tool call written as text (Edit)" in sessions(result, "implementer")[0]
    assert MUL_IMPL.strip() in branch_file(repo, state, "calc/__init__.py")
    assert state["agents"]["implementer"]["handoff"].startswith("## Changes")


def test_a_placeholder_write_is_refused_and_the_file_keeps_its_code(repo: Path) -> None:
    lazy = "# ... existing code ...\n\n\ndef mul(a, b):\n    return a * b\n"
    implementer = [
        tools(call("Read", file_path="calc/__init__.py"), call("Write", file_path="calc/__init__.py", content=lazy)),
        tools(edit_mul()),
        final(implemented()),
    ]
    result, state = run(repo, {"implementer": implementer})
    assert state["status"] == "done", state.get("error")
    assert "is a placeholder" in sessions(result, "implementer")[0]
    source = branch_file(repo, state, "calc/__init__.py")
    assert "def add(a, b)" in source and "existing code" not in source


def test_an_edit_with_read_line_numbers_is_refused_then_copied_right(repo: Path) -> None:
    numbered = call(
        "Edit", file_path="calc/__init__.py", old_string="     5\t    return a + b", new_string="     5\t    return a+b"
    )
    implementer = [tools(call("Read", file_path="calc/__init__.py"), numbered), tools(edit_mul()), final(implemented())]
    result, state = run(repo, {"implementer": implementer})
    assert state["status"] == "done", state.get("error")
    assert "starts every line with a line number and a tab" in sessions(result, "implementer")[0]
    assert "return a + b" in branch_file(repo, state, "calc/__init__.py")


def test_an_endless_tool_loop_ends_at_the_turn_limit_and_fails_clearly(repo: Path) -> None:
    looping = tools(call("Grep", pattern="def mul"))
    _, state = run(repo, {"implementer": [looping] * 30})
    assert state["status"] == "failed"
    assert state["agents"]["implementer"]["status"] == "failed"
    assert "did not finish within max_turns=20" in state["error"]


# ---------------------------------------------------------------- tests weakened to pass
def test_a_weakened_test_is_a_fact_the_reviewer_reads_and_acts_on(repo: Path) -> None:
    weaken = call(
        "Edit",
        file_path="tests/test_calc.py",
        old_string="self.assertEqual(mul(2, 3), 6)",
        new_string="self.assertEqual(mul(2, 3), 5)",
    )
    restore = call(
        "Edit",
        file_path="tests/test_calc.py",
        old_string="self.assertEqual(mul(2, 3), 5)",
        new_string="self.assertEqual(mul(2, 3), 6)",
    )
    implementer = [
        tools(edit_mul(WRONG_MUL_IMPL), weaken),  # the gate passes: the test now expects the wrong sum
        final(implemented("- Added mul; adjusted the test's expected value.")),
        tools(restore, fix_mul()),
        final(ADDRESSED),
    ]
    weakened = "1. tests/test_calc.py:15 — the expected value was changed from 6 to 5 — restore it and fix `mul`"
    reviewer = [final(f"Checked: tests/test_calc.py\n{weakened}\nVERDICT: REQUEST_CHANGES"), final(APPROVE)]
    result, state = run(repo, {"implementer": implementer, "reviewer": reviewer})
    assert state["status"] == "done", state.get("error")
    facts = json.loads((result.run_dir / "analysers" / "reviewer.json").read_text(encoding="utf-8"))
    tamper = next(r for r in facts["results"] if r["name"] == "tamper")
    assert tamper["status"] == "ok"  # the last round: the test was restored
    first_review = task(sessions(result, "reviewer")[0])
    assert "## tamper: 1 finding(s)" in first_review
    assert "`MulTests.test_mul`: expected value(s) changed: 6 no longer asserted; now 5" in first_review
    assert "self.assertEqual(mul(2, 3), 6)" in branch_file(repo, state, "tests/test_calc.py")


# ---------------------------------------------------------------- handoffs
def test_a_handoff_without_its_sections_is_asked_for_once(repo: Path) -> None:
    planner = [final("Add mul to calc and test it."), final(PLAN)]
    result, state = run(repo, {"planner": planner})
    assert state["status"] == "done", state.get("error")
    session = sessions(result, "planner")[0]
    assert "lacks the section(s) `## Goal`, `## Changes`, `## Tests to write`" in session
    assert state["agents"]["planner"]["handoff"] == PLAN
    assert "## Goal" in task(sessions(result, "test-master")[0])  # what the next agent reads


def test_a_second_miss_is_taken_as_it_is_and_the_run_goes_on(repo: Path) -> None:
    planner = [final("Add mul."), final("Add mul, tested.")]
    _, state = run(repo, {"planner": planner})
    assert state["status"] == "done", state.get("error")
    assert state["agents"]["planner"]["handoff"] == "Add mul, tested."


def test_the_web_researcher_gets_the_project_pins(repo: Path) -> None:
    result, state = run(repo, {})
    assert state["status"] == "done", state.get("error")
    assert PINNED in task(sessions(result, "researcher-web")[0])
    assert PINNED not in task(sessions(result, "researcher-local")[0])


def test_every_default_scripted_reply_carries_its_agents_sections() -> None:
    """The fakes follow the contract the pipeline checks (else every scripted run pays a re-ask)."""
    from autodev.agent.specs import load_agents

    agents = load_agents(None)
    for name, replies in feature_script()["agents"].items():
        for reply in replies:
            if not reply.get("tool_calls"):
                assert missing_sections(reply["text"], agents[name].handoff_sections) == (), (name, reply["text"])
