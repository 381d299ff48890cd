"""Issue 20: a final reply that cannot be the handoff gets one corrective turn in the same conversation.

A reviewer's reply without a readable verdict is asked for just the verdict line; a tool call written
as text (local models' chat templates) is answered with an error so the model calls the tool; a handoff
missing the sections its agent file declares is asked for again. Each once: a second miss is taken.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import anyio
import pytest

from autodev.agent.corrections import missing_sections, tool_call_as_text
from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.agent.verdicts import ASK_FOR_VERDICT, parse_verdict
from autodev.core.metrics import MetricsSink
from autodev.models import ModelRequest
from autodev.models.fakes.scripted import RecordingModel, ScriptedProvider
from autodev.sandbox.workspace import Workspace
from autodev.tools.files import builtin_tools

REVIEWER = AgentSpec(
    name="reviewer",
    description="Reviews.",
    prompt="You are the reviewer.",
    source=Path("reviewer.md"),
    tools=("Read", "Grep"),
    verdict=True,
)
IMPLEMENTER = AgentSpec(
    name="implementer",
    description="Implements.",
    prompt="You are the implementer.",
    source=Path("implementer.md"),
    tools=("Read", "Edit"),
    handoff_sections=("Changes", "Tests"),
)


def run(tmp_path: Path, spec: AgentSpec, replies: list[dict[str, Any]]) -> tuple[AgentOutcome, list[ModelRequest]]:
    root = tmp_path / "worktree"
    root.mkdir(exist_ok=True)
    (root / "greet.py").write_text('def greet(name):\n    return "Hello " + name\n', encoding="utf-8")
    model = RecordingModel(ScriptedProvider({"agents": {spec.name: replies}}).model("scripted"))
    inputs = AgentInputs(
        spec=spec,
        model=model,
        task="Do your part.",
        workspace=Workspace(root),
        tools={n: t for n, t in builtin_tools().items() if n in spec.offered_tools()},
        run_id="run-1",
        session_path=tmp_path / "sessions" / f"{spec.name}.md",
        metrics=MetricsSink(tmp_path / "metrics.jsonl"),
    )
    outcome = anyio.run(run_agent, inputs)
    return outcome, model.requests


def last_user_text(request: ModelRequest) -> str:
    return request.messages[-1].text


def test_a_missing_verdict_is_asked_for_once_without_tools(tmp_path: Path) -> None:
    outcome, requests = run(
        tmp_path, REVIEWER, [{"text": "Checked calc.py; the change looks right."}, {"text": "VERDICT: APPROVE"}]
    )
    assert outcome.ok, outcome.error
    assert len(requests) == 2
    assert last_user_text(requests[1]) == ASK_FOR_VERDICT
    assert requests[1].tools == ()
    assert parse_verdict(outcome.handoff).decision == "APPROVE"
    assert outcome.handoff.startswith("Checked calc.py")  # the review itself is kept


def test_an_ambiguous_verdict_is_asked_for_again_not_approved(tmp_path: Path) -> None:
    echoed = "Checked calc.py.\nVERDICT: APPROVE or VERDICT: REQUEST_CHANGES"
    fixed = "VERDICT: REQUEST_CHANGES\n1. calc.py:2 — wrong sum — use a + b"
    outcome, requests = run(tmp_path, REVIEWER, [{"text": echoed}, {"text": fixed}])
    assert len(requests) == 2
    verdict = parse_verdict(outcome.handoff)
    assert verdict.decision == "REQUEST_CHANGES"
    assert verdict.findings == "1. calc.py:2 — wrong sum — use a + b"


def test_a_verdict_missing_twice_is_taken_as_it_is(tmp_path: Path) -> None:
    outcome, requests = run(tmp_path, REVIEWER, [{"text": "Fine."}, {"text": "Still fine."}, {"text": "unused"}])
    assert outcome.ok
    assert len(requests) == 2  # one re-ask only; the pipeline counts the missing verdict
    assert parse_verdict(outcome.handoff).decision is None


def test_the_re_ask_is_given_even_on_the_last_turn(tmp_path: Path) -> None:
    spec = dataclasses.replace(REVIEWER, max_turns=1)
    outcome, requests = run(tmp_path, spec, [{"text": "Fine."}, {"text": "VERDICT: APPROVE"}])
    assert outcome.ok and len(requests) == 2
    assert parse_verdict(outcome.handoff).decision == "APPROVE"


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "Read", "arguments": {"file_path": "greet.py"}}\n</tool_call>',
        '{"name": "Read", "arguments": {"file_path": "greet.py"}}',
        '```json\n{"name": "Read", "parameters": {"file_path": "greet.py"}}\n```',
    ],
)
def test_a_tool_call_written_as_text_is_not_the_handoff(tmp_path: Path, text: str) -> None:
    replies = [
        {"text": text},
        {"tool_calls": [{"name": "Read", "input": {"file_path": "greet.py"}}]},
        {"text": "## Changes\n- none needed\n## Tests\n- not run"},
    ]
    outcome, requests = run(tmp_path, IMPLEMENTER, replies)
    assert outcome.ok, outcome.error
    assert len(requests) == 3
    assert "tool call written as text (Read)" in last_user_text(requests[1])
    assert requests[1].tools  # the corrective turn offers the tools
    assert outcome.handoff.startswith("## Changes")
    assert outcome.tool_calls["Read"] == 1


def test_a_tool_call_as_text_twice_is_taken_as_the_handoff(tmp_path: Path) -> None:
    text = '{"name": "Read", "arguments": {"file_path": "greet.py"}}'
    spec = dataclasses.replace(IMPLEMENTER, handoff_sections=())
    outcome, requests = run(tmp_path, spec, [{"text": text}, {"text": text}])
    assert outcome.ok and len(requests) == 2
    assert outcome.handoff == text


def test_a_handoff_missing_its_sections_gets_one_corrective_turn(tmp_path: Path) -> None:
    handoff = "## Changes\n- greet.py — `greet`: adds '!'\n## Tests\n- 3 passed"
    replies = [{"text": "I changed greet."}, {"text": handoff}]
    outcome, requests = run(tmp_path, IMPLEMENTER, replies)
    assert len(requests) == 2
    assert "`## Changes`, `## Tests`" in last_user_text(requests[1])
    assert outcome.handoff.startswith("## Changes")


def test_a_handoff_with_its_sections_needs_no_correction(tmp_path: Path) -> None:
    outcome, requests = run(tmp_path, IMPLEMENTER, [{"text": "### changes:\n- x\n## **Tests**\n- y"}])
    assert outcome.ok and len(requests) == 1


def test_shapes_that_are_not_tool_calls() -> None:
    assert tool_call_as_text("I will call Read next.", {"Read"}) is None
    assert tool_call_as_text('{"status": "ok"}', {"Read"}) is None
    assert tool_call_as_text('{"name": "Read", "file_path": "x"}', {"Read"}) == "Read"
    assert missing_sections("## Plan\n## Tests", ("Plan", "Tests", "Test run")) == ("Test run",)
