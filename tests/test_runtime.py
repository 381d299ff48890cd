"""One agent end to end with a scripted model: the tool loop, budgets, the handoff and its measurements."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from autodev.agent.runtime import FINAL_TURN_NOTE, AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.core.metrics import MetricsSink
from autodev.core.tokens import estimate_tokens
from autodev.models import ModelRequest, ToolResultPart, Usage
from autodev.models.fakes.scripted import RecordingModel, ScriptedProvider
from autodev.sandbox.workspace import Workspace
from autodev.tools.files import builtin_tools

CALL_FIELDS = {
    "schema", "kind", "run_id", "agent", "model", "started_at", "duration_s", "attempts", "status",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
}  # fmt: skip

MODEL_ID = "scripted-balanced"


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "worktree"
        (self.root / "src").mkdir(parents=True)
        (self.root / "src" / "greet.py").write_text('def greet(name):\n    return "Hello " + name\n', encoding="utf-8")
        self.run_dir = tmp_path / "run"
        self.metrics = MetricsSink(self.run_dir / "metrics.jsonl")
        self.session_path = self.run_dir / "sessions" / "implementer.md"
        self.model: RecordingModel | None = None

    def run(
        self,
        replies: list[dict[str, Any]],
        *,
        tools: tuple[str, ...] = ("Read", "Edit", "Grep"),
        max_turns: int = 6,
        output_tokens: int = 800,
        task: str = "Make greet() add an exclamation mark.",
    ) -> AgentOutcome:
        spec = AgentSpec(
            name="implementer",
            description="Implements.",
            prompt="You are the implementer.",
            source=Path("implementer.md"),
            tools=tools,
            max_turns=max_turns,
            output_tokens=output_tokens,
        )
        provider = ScriptedProvider({"agents": {"implementer": replies}})
        self.model = RecordingModel(provider.model(MODEL_ID))
        offered = {name: tool for name, tool in builtin_tools().items() if name in spec.offered_tools()}
        inputs = AgentInputs(
            spec=spec,
            model=self.model,
            task=task,
            workspace=Workspace(self.root),
            tools=offered,
            run_id="run-123",
            session_path=self.session_path,
            metrics=self.metrics,
        )

        async def main() -> AgentOutcome:
            return await run_agent(inputs)

        return anyio.run(main)

    @property
    def requests(self) -> list[ModelRequest]:
        assert self.model is not None
        return self.model.requests

    def tool_results(self, request_index: int) -> list[ToolResultPart]:
        last = self.requests[request_index].messages[-1]
        return [part for part in last.parts if isinstance(part, ToolResultPart)]

    def session(self) -> str:
        return self.session_path.read_text(encoding="utf-8")


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


EDIT_SCRIPT: list[dict[str, Any]] = [
    {
        "text": "Let me look at the function first.",
        "tool_calls": [{"name": "Read", "input": {"file_path": "src/greet.py"}}],
        "usage": {"input_tokens": 120, "output_tokens": 15, "cache_read_tokens": 30, "cache_write_tokens": 5},
    },
    {
        "tool_calls": [
            {
                "name": "Edit",
                "input": {"file_path": "src/greet.py", "old_string": "+ name\n", "new_string": '+ name + "!"\n'},
            },
            {"name": "Read", "input": {"file_path": "src/greet.py", "offset": 2}},
        ],
        "usage": {"input_tokens": 200, "output_tokens": 40, "cache_read_tokens": 100},
    },
    {
        "text": "Changed greet() in src/greet.py to end with '!'.",
        "usage": {"input_tokens": 260, "output_tokens": 20, "cache_read_tokens": 150},
    },
]


def test_tool_round_trip_edits_a_real_file_and_hands_off(harness: Harness) -> None:
    outcome = harness.run(EDIT_SCRIPT)
    assert outcome.ok, outcome.error
    assert outcome.error is None
    assert outcome.handoff == "Changed greet() in src/greet.py to end with '!'."
    assert outcome.handoff_truncated is False
    assert outcome.handoff_tokens == estimate_tokens(outcome.handoff)
    assert (harness.root / "src" / "greet.py").read_text(encoding="utf-8").endswith('return "Hello " + name + "!"\n')
    assert outcome.turns == 3
    assert outcome.model == MODEL_ID
    assert outcome.started_at <= outcome.ended_at
    # the model saw the tool results, tied to its calls, on the next request
    first = harness.tool_results(1)
    assert [(p.tool_call_id, p.is_error) for p in first] == [("call_0001", False)]
    assert "     1\tdef greet(name):" in first[0].content
    second = harness.tool_results(2)
    assert [p.is_error for p in second] == [False, False]
    assert second[0].content.startswith("Edited src/greet.py: 1 replacement\n")
    assert second[0].content.endswith('     2\t    return "Hello " + name + "!"')  # the lines the edit left
    assert second[1].content == '     2\t    return "Hello " + name + "!"'
    # every request carried the system prompt and the offered tools
    assert all(r.system == "You are the implementer." for r in harness.requests)
    assert [t.name for t in harness.requests[0].tools] == ["Edit", "Grep", "Read"]


def test_tool_calls_usage_and_context_are_counted(harness: Harness) -> None:
    outcome = harness.run(EDIT_SCRIPT)
    assert outcome.tool_calls == {"Read": 2, "Edit": 1}
    assert outcome.usage == Usage(input_tokens=580, output_tokens=75, cache_read_tokens=280, cache_write_tokens=5)
    assert outcome.context_tokens == [155, 300, 410]  # input + cache reads + cache writes, one per turn


def test_a_call_record_per_model_request(harness: Harness) -> None:
    harness.run(EDIT_SCRIPT)
    records = harness.metrics.records
    assert len(records) == 3
    for record, reply in zip(records, EDIT_SCRIPT, strict=True):
        assert set(record) == CALL_FIELDS
        assert record["schema"] == 1 and record["kind"] == "call"
        assert (record["run_id"], record["agent"], record["model"]) == ("run-123", "implementer", MODEL_ID)
        assert record["status"] == "ok"
        assert record["attempts"] == 1
        assert record["cost_usd"] is None  # scripted models are not in the price table
        assert isinstance(record["duration_s"], float) and record["duration_s"] >= 0
        started = datetime.fromisoformat(record["started_at"])
        assert started.utcoffset() is not None and started.utcoffset().total_seconds() == 0
        assert len(record["started_at"].split(".")[1]) >= 6  # microseconds
        usage = reply["usage"]
        assert record["input_tokens"] == usage["input_tokens"]
        assert record["output_tokens"] == usage["output_tokens"]
        assert record["cache_read_tokens"] == usage.get("cache_read_tokens", 0)
        assert record["cache_write_tokens"] == usage.get("cache_write_tokens", 0)
    on_disk = [json.loads(line) for line in (harness.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert on_disk == records


def test_session_file_has_task_and_tool_results(harness: Harness) -> None:
    harness.run(EDIT_SCRIPT, task="Make greet() add an exclamation mark, please.")
    session = harness.session()
    assert session.startswith(f"# implementer — model {MODEL_ID}")
    assert "## Task\n\nMake greet() add an exclamation mark, please." in session
    assert '→ Read {"file_path": "src/greet.py"}' in session
    assert "def greet(name):" in session
    assert "← Edited src/greet.py: 1 replacement" in session
    assert "## Turn 3\n\nChanged greet() in src/greet.py to end with '!'." in session
    assert session.rstrip().endswith(": ok_")


def test_tool_not_offered_returns_an_error_and_the_run_goes_on(harness: Harness) -> None:
    script = [
        {"tool_calls": [{"name": "Write", "input": {"file_path": "evil.py", "content": "x"}}]},
        {"tool_calls": [{"name": "Bash", "input": {"command": "rm -rf /"}}]},
        {"text": "Done without writing."},
    ]
    outcome = harness.run(script, tools=("Read", "Grep"))
    assert outcome.ok
    assert outcome.handoff == "Done without writing."
    assert not (harness.root / "evil.py").exists()
    for index, name in ((1, "Write"), (2, "Bash")):
        (result,) = harness.tool_results(index)
        assert result.is_error
        assert f"unknown tool {name!r}" in result.content
        assert "Grep" in result.content and "Read" in result.content
    assert outcome.tool_calls == {"Write": 1, "Bash": 1}
    assert "← ERROR Error: unknown tool 'Bash'" in harness.session()


def test_refused_path_is_an_error_result_and_the_run_goes_on(harness: Harness) -> None:
    script = [
        {"tool_calls": [{"name": "Read", "input": {"file_path": "../../etc/passwd"}}]},
        {"text": "Could not read it."},
    ]
    outcome = harness.run(script)
    assert outcome.ok
    (result,) = harness.tool_results(1)
    assert result.is_error and "'..'" in result.content


def test_max_turns_with_tool_calls_still_coming(harness: Harness) -> None:
    looping = {"tool_calls": [{"name": "Grep", "input": {"pattern": "greet"}}]}
    outcome = harness.run([looping, looping, looping, {"text": "never reached"}], max_turns=3)
    assert outcome.ok is False
    assert outcome.error is not None and "max_turns=3" in outcome.error
    assert outcome.turns == 3
    assert outcome.handoff == ""
    assert len(harness.requests) == 3
    # the last turn offers no tools and tells the model to wrap up
    final = harness.requests[-1]
    assert final.tools == ()
    assert final.messages[-1].text.endswith(FINAL_TURN_NOTE)
    assert all(r.tools for r in harness.requests[:-1])
    assert len(harness.metrics.records) == 3
    assert "max_turns=3" in harness.session()


def test_final_turn_answer_is_accepted(harness: Harness) -> None:
    looping = {"tool_calls": [{"name": "Grep", "input": {"pattern": "greet"}}]}
    outcome = harness.run([looping, {"text": "Summary after the nudge."}], max_turns=2)
    assert outcome.ok
    assert outcome.handoff == "Summary after the nudge."


def test_scripted_model_error(harness: Harness) -> None:
    script = [
        {"tool_calls": [{"name": "Read", "input": {"file_path": "src/greet.py"}}]},
        {"error": "529 overloaded (scripted)"},
    ]
    outcome = harness.run(script)
    assert outcome.ok is False
    assert outcome.error == "model error: 529 overloaded (scripted)"
    assert outcome.turns == 1
    statuses = [r["status"] for r in harness.metrics.records]
    assert statuses == ["ok", "error"]
    failed = harness.metrics.records[-1]
    assert set(failed) == CALL_FIELDS
    assert (failed["input_tokens"], failed["output_tokens"]) == (0, 0)
    assert "529 overloaded" in harness.session()


def test_script_running_out_is_a_model_error(harness: Harness) -> None:
    outcome = harness.run([{"tool_calls": [{"name": "Grep", "input": {"pattern": "x"}}]}])
    assert outcome.ok is False
    assert outcome.error is not None and "no (more) replies" in outcome.error


def test_long_handoff_is_cut_and_marked(harness: Harness) -> None:
    long_text = "".join(f"Finding {i}: the helper in src/greet.py needs work.\n" for i in range(60))
    outcome = harness.run([{"text": long_text}], output_tokens=50)
    assert outcome.ok
    assert outcome.handoff_truncated is True
    assert outcome.handoff.startswith("Finding 0: the helper")
    assert outcome.handoff.endswith("[handoff cut to 50 tokens; full text in implementer.md]")
    assert outcome.handoff_tokens == estimate_tokens(outcome.handoff) <= 50
    assert long_text.strip() in harness.session()  # the full text is kept in the session file


def test_usage_is_estimated_when_the_script_gives_none(harness: Harness) -> None:
    outcome = harness.run([{"text": "Nothing to do."}])
    assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens > 0
    assert outcome.context_tokens == [outcome.usage.input_tokens]
