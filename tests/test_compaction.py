"""Working-context compaction: the pure function on message lists, and the tool loop that applies it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import anyio

from autodev.agent.context.compaction import (
    STUB_PREFIX,
    compact,
    cut_head_and_tail,
    describe_call,
    fixed_tokens,
    messages_tokens,
)
from autodev.agent.context.counting import count_tokens
from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.core.metrics import MetricsSink
from autodev.models import Message, ModelRequest, ModelResponse, TextPart, ToolCall, ToolResultPart, Usage
from autodev.sandbox.workspace import Workspace
from autodev.tools.files import builtin_tools

TASK = "Find where the totals are computed and explain it."


def words(text: str) -> int:
    """A transparent counter for the pure tests: one token per whitespace-separated word."""
    return len(text.split())


def big(label: str, n: int) -> str:
    return " ".join(f"{label}{i}" for i in range(n))


def conversation(sizes: list[int]) -> list[Message]:
    """The task, then one Read per turn whose result has `sizes[k]` words; the last turn is the latest."""
    messages = [Message("user", (TextPart(TASK),))]
    for k, size in enumerate(sizes):
        call = ToolCall(f"c{k}", "Read", {"file_path": f"src/f{k}.py", "limit": 500})
        messages.append(Message("assistant", (TextPart(f"reading f{k}"), call)))
        messages.append(Message("user", (ToolResultPart(f"c{k}", big(f"w{k}_", size)),)))
    return messages


def assert_paired(messages: tuple[Message, ...] | list[Message]) -> None:
    """Every tool call is answered by a result in the next message, and every result answers a call."""
    for index, message in enumerate(messages):
        calls = [p.id for p in message.parts if isinstance(p, ToolCall)]
        if calls:
            answered = [p.tool_call_id for p in messages[index + 1].parts if isinstance(p, ToolResultPart)]
            assert answered == calls
        if message.role == "user" and index > 0:
            results = [p.tool_call_id for p in message.parts if isinstance(p, ToolResultPart)]
            previous = [p.id for p in messages[index - 1].parts if isinstance(p, ToolCall)]
            assert results == previous


def result_text(message: Message) -> str:
    part = message.parts[0]
    assert isinstance(part, ToolResultPart)
    return part.content


def test_no_compaction_when_under_budget() -> None:
    messages = conversation([100, 100, 100])
    fixed = 50
    total = fixed + messages_tokens(messages, words)
    result = compact(messages, budget=total, fixed=fixed, count=words)
    assert not result.changed
    assert result.messages == tuple(messages)
    assert result.tokens_before == result.tokens_after == total
    assert result.elided_tokens == 0 and result.within_budget


def test_stubs_replace_old_results_oldest_first_until_under_budget() -> None:
    messages = conversation([300, 300, 300, 300, 300])
    total = 20 + messages_tokens(messages, words)
    result = compact(messages, budget=total - 450, fixed=20, count=words)  # two stubs are needed, not three
    assert result.stubbed == 2 and result.cut == 0
    assert result.within_budget and result.tokens_after == total - result.elided_tokens
    stubbed = [result_text(m) for m in result.messages[2::2]]
    assert stubbed[0].startswith(STUB_PREFIX) and stubbed[1].startswith(STUB_PREFIX)
    assert 'Read(file_path="src/f0.py")' in stubbed[0] and "returned 300 tokens" in stubbed[0]
    assert "call Read again" in stubbed[0]
    assert len(stubbed[0].splitlines()) == 1
    assert stubbed[2:] == [result_text(m) for m in messages[6::2]]  # the newer results are untouched
    assert result.elided_tokens == sum(300 - words(s) for s in stubbed[:2])
    assert result.messages[0] == messages[0]  # the task
    assert result.messages[-2:] == tuple(messages[-2:])  # the latest turn
    assert [m.parts for m in result.messages if m.role == "assistant"] == [
        m.parts for m in messages if m.role == "assistant"
    ]
    assert_paired(result.messages)


def test_latest_turn_is_never_stubbed_and_a_result_too_big_alone_is_cut_head_and_tail() -> None:
    lines = "\n".join(f"line{i} alpha beta gamma" for i in range(1000))
    call = ToolCall("c0", "Read", {"file_path": "src/huge.py"})
    messages = [
        Message("user", (TextPart(TASK),)),
        Message("assistant", (call,)),
        Message("user", (ToolResultPart("c0", lines),)),
    ]
    result = compact(messages, budget=800, fixed=30, count=words)
    assert result.stubbed == 0 and result.cut == 1
    assert result.within_budget
    text = result_text(result.messages[2])
    assert text.startswith("line0 alpha") and text.rstrip().endswith("line999 alpha beta gamma")
    assert "cut from the middle to fit the context budget; call Read again" in text
    assert result.elided_tokens == words(lines) - words(text)
    assert result.messages[:2] == tuple(messages[:2])
    assert_paired(result.messages)


def test_stubs_first_then_the_largest_remaining_result_is_cut() -> None:
    messages = conversation([200, 200, 3000])  # the latest result alone exceeds the budget
    result = compact(messages, budget=1000, fixed=10, count=words)
    assert result.stubbed == 2 and result.cut == 1 and result.within_budget
    assert all(result_text(m).startswith(STUB_PREFIX) for m in result.messages[2:6:2])
    assert "cut from the middle" in result_text(result.messages[-1])
    assert_paired(result.messages)


def test_compaction_is_idempotent_on_stubs_and_keeps_error_flags() -> None:
    messages = conversation([300, 300, 300])
    messages[2] = Message("user", (replace(messages[2].parts[0], is_error=True),))  # type: ignore[type-var]
    first = compact(messages, budget=700, fixed=0, count=words)
    assert first.stubbed == 1
    part = first.messages[2].parts[0]
    assert isinstance(part, ToolResultPart) and part.is_error
    again = compact(first.messages, budget=700, fixed=0, count=words)
    assert not again.changed


def test_over_budget_with_nothing_to_compact_returns_the_best_it_can() -> None:
    messages = [Message("user", (TextPart(big("t", 500)),))]
    result = compact(messages, budget=100, fixed=0, count=words)
    assert not result.changed and not result.within_budget
    assert result.messages == tuple(messages)


def test_describe_call_and_cut_helpers() -> None:
    assert describe_call(ToolCall("x", "Grep", {"pattern": "def total", "path": "src"})) == 'Grep(path="src")'
    assert describe_call(ToolCall("x", "Bash", {"command": "pytest -q"})) == 'Bash(command="pytest -q")'
    assert describe_call(ToolCall("x", "Glob", {})) == "Glob()"
    assert describe_call(ToolCall("x", "Odd", {"thing": "value", "n": 3})) == 'Odd(thing="value")'
    assert cut_head_and_tail("short text", 100, None, words) == "short text"


# --- the tool loop ---------------------------------------------------------------------------------


class ReadingModel:
    """A fake model that Reads each file in turn, then hands off; it keeps every request it was sent."""

    model_id = "fake-reader"
    provider = "fake"

    def __init__(self, files: list[str]) -> None:
        self.files = files
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        n = len(self.requests)
        tokens = fixed_tokens(request.system, request.context, request.tools, count_tokens)
        usage = Usage(input_tokens=tokens + messages_tokens(request.messages, count_tokens), output_tokens=10)
        if n <= len(self.files):
            call = ToolCall(f"call-{n}", "Read", {"file_path": self.files[n - 1]})
            return ModelResponse(f"Reading {self.files[n - 1]}.", (call,), usage, self.model_id)
        return ModelResponse("Totals are computed in src/m0.py.", (), usage, self.model_id)


def run_reader(tmp_path: Path, *, files: int, lines: int, budget: int) -> tuple[AgentOutcome, ReadingModel, Path]:
    root = tmp_path / "worktree"
    (root / "src").mkdir(parents=True)
    names = []
    for k in range(files):
        body = "\n".join(
            f"def total_{k}_{i}(items):\n    return sum(item.price_{i} for item in items)" for i in range(lines)
        )
        (root / "src" / f"m{k}.py").write_text(body + "\n", encoding="utf-8")
        names.append(f"src/m{k}.py")
    spec = AgentSpec(
        name="researcher-local",
        description="Reads.",
        prompt="You are the researcher.",
        source=Path("researcher-local.md"),
        tools=("Read",),
        max_turns=files + 2,
        context_tokens=budget,
    )
    model = ReadingModel(names)
    session_path = tmp_path / "run" / "sessions" / "researcher-local.md"
    inputs = AgentInputs(
        spec=spec,
        model=model,
        task=TASK,
        workspace=Workspace(root),
        tools={"Read": builtin_tools()["Read"]},
        run_id="run-1",
        session_path=session_path,
        metrics=MetricsSink(tmp_path / "run" / "metrics.jsonl"),
        context="Shared facts about the repository.",
    )

    async def main() -> AgentOutcome:
        return await run_agent(inputs)

    return anyio.run(main), model, session_path


def request_size(request: ModelRequest) -> int:
    fixed = fixed_tokens(request.system, request.context, request.tools, count_tokens)
    return fixed + messages_tokens(request.messages, count_tokens)


def test_a_long_tool_loop_stays_within_budget_on_every_request(tmp_path: Path) -> None:
    outcome, model, session_path = run_reader(tmp_path, files=8, lines=40, budget=4000)
    assert outcome.ok, outcome.error
    assert len(model.requests) == 9
    sizes = [request_size(r) for r in model.requests]
    assert max(sizes) <= 4000
    full = [count_tokens(result_text(r.messages[-1])) for r in model.requests[1:]]
    assert sum(full) > 4000  # without compaction the later requests would not have fit
    assert outcome.compactions > 0 and outcome.elided_tokens > 0
    assert outcome.context_tokens == sizes  # the size after compaction, as the (fake) provider reported it
    last = model.requests[-1]
    assert last.messages[0] == Message("user", (TextPart(TASK),))
    assert_paired(last.messages)
    stubs = [result_text(m) for m in last.messages[2::2] if result_text(m).startswith(STUB_PREFIX)]
    assert stubs, "older results should be stubbed"
    stub_paths = [s.split('file_path="')[1].split('"')[0] for s in stubs]
    assert stub_paths == [f"src/m{k}.py" for k in range(len(stubs))]  # oldest first, contiguous
    assert all("tokens; call Read again" in s for s in stubs)
    latest = result_text(last.messages[-1])
    assert not latest.startswith(STUB_PREFIX) and "def total_7_0" in latest and "price_39" in latest
    for request in model.requests:
        assert_paired(request.messages)
        if len(request.messages) > 1:  # the latest turn is what the model just did and what it got back
            assert request.messages[-2].role == "assistant"
            assert not result_text(request.messages[-1]).startswith(STUB_PREFIX)
    session = session_path.read_text(encoding="utf-8")
    assert "_context compacted before turn" in session and "tool result(s) stubbed" in session


def test_one_result_bigger_than_the_budget_is_cut_head_and_tail_in_the_loop(tmp_path: Path) -> None:
    # 240 lines: within Read's default of 250 (issue 20), yet far over the 2,000-token budget
    outcome, model, _ = run_reader(tmp_path, files=1, lines=120, budget=2000)
    assert outcome.ok, outcome.error
    assert all(request_size(r) <= 2000 for r in model.requests)
    latest = result_text(model.requests[-1].messages[-1])
    assert "def total_0_0" in latest and "price_119" in latest
    assert "cut from the middle to fit the context budget" in latest
    assert outcome.compactions == 1


def test_no_compaction_in_the_loop_when_under_budget(tmp_path: Path) -> None:
    outcome, model, session_path = run_reader(tmp_path, files=3, lines=5, budget=50_000)
    assert outcome.ok and outcome.compactions == 0 and outcome.elided_tokens == 0
    for request in model.requests[1:]:
        assert not result_text(request.messages[-1]).startswith(STUB_PREFIX)
    assert all(STUB_PREFIX not in result_text(m) for m in model.requests[-1].messages[2::2])
    assert "compacted" not in session_path.read_text(encoding="utf-8")
