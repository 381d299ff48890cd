"""The Anthropic adapter through the official SDK, pointed at the local fake Messages API.

Covers the mapping both ways (tool_use / tool_result, usage with cache reads and writes, server-side web search
blocks kept verbatim, unknown blocks ignored), every stop reason, where the `cache_control` breakpoints go, and
prompt caching as the call records measure it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes.anthropic import FakeAnthropic, prompt_blocks
from fakes.server import Reply, ToolCall
from provider_support import GREET, LONG_SYSTEM, AgentRun, close_clients, run_one_agent, shared_tls_context

from autodev.agent.runtime import FINAL_TURN_NOTE
from autodev.models import (
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    ProviderError,
    ProviderPart,
    TextPart,
    ToolDefinition,
    ToolResultPart,
    Usage,
)
from autodev.models import ToolCall as NeutralToolCall
from autodev.models.adapters.anthropic import CACHE, WEB_SEARCH_TOOL, AnthropicProvider, build_params
from autodev.models.pricing import load_price_table
from autodev.models.resilience import RetryingModel, RetryPolicy

MODEL = "claude-sonnet-5-5"
SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}}
SHARED_CONTEXT = "# Repository\n\nThe calculator lives in calc/__init__.py; tests in tests/. " * 80  # ~1,500 tokens

SERVER_BLOCKS: list[dict[str, Any]] = [
    {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "python mul"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_01",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://docs.python.org/3/library/operator.html",
                "title": "operator",
                "encrypted_content": "EqgfCioIARgBIiQ3",
                "page_age": "2 days ago",
            }
        ],
    },
]

server = FakeAnthropic.fixture("anthropic_server", scope="module")


@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():  # SDK clients are made per test: load the CA bundle once
        yield


@pytest.fixture
def fake(anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    anthropic_server.reset()
    anthropic_server.cache_lookback = 0
    yield anthropic_server
    assert not anthropic_server.internal_errors


def provider(fake: FakeAnthropic) -> AnthropicProvider:
    return AnthropicProvider(api_key="k", base_url=fake.base_url)


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def request(**kwargs: Any) -> ModelRequest:
    fields: dict[str, Any] = {"agent": "planner", "system": "You plan.", "messages": (user("hello"),), **kwargs}
    return ModelRequest(**fields)


def complete(fake: FakeAnthropic, req: ModelRequest, model_id: str = MODEL) -> ModelResponse:
    async def main() -> ModelResponse:
        adapter = provider(fake)
        try:
            response: ModelResponse = await adapter.model(model_id).complete(req)
            return response
        finally:
            await close_clients([adapter])

    return anyio.run(main)


def agent(fake: FakeAnthropic, tmp_path: Path, **kwargs: Any) -> AgentRun:
    """One agent through the real tool loop, its model the adapter pointed at the fake."""
    adapter = provider(fake)
    return run_one_agent(adapter.model(MODEL), tmp_path, close=[adapter], **kwargs)


def anthropic_usage(input_tokens: int, output_tokens: int, *, write: int, read: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    }


def breakpoints(params: dict[str, Any]) -> list[str]:
    """Where the `cache_control` markers are, as readable labels."""
    found = [f"tools[{i}]" for i, t in enumerate(params.get("tools", [])) if "cache_control" in t]
    found += [f"system[{i}]" for i, b in enumerate(params.get("system", [])) if "cache_control" in b]
    for m, message in enumerate(params["messages"]):
        found += [f"messages[{m}][{b}]" for b, block in enumerate(message["content"]) if "cache_control" in block]
    return found


# ---------------------------------------------------------------- replies and the tool loop
def test_text_reply_through_the_sdk(fake: FakeAnthropic) -> None:
    fake.reply("Here is the plan.")
    response = complete(fake, request())

    assert response.text == "Here is the plan." and response.tool_calls == ()
    assert response.stop_reason == "end_turn" and response.model == MODEL
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.attempts == 1 and response.usage_estimated is False
    sent = fake.last_request
    assert sent.status == 200 and sent.header("authorization") == "Bearer k"
    assert sent.body["model"] == MODEL and sent.body["max_tokens"] == 8192
    assert sent.body["system"] == [{"type": "text", "text": "You plan.", "cache_control": CACHE}]
    assert sent.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": CACHE}]}
    ]
    assert not {"temperature", "top_p", "top_k", "stream"} & set(sent.body)  # rejected under 2026-10-21
    assert provider(fake).name == "anthropic" and provider(fake).web_search is True


def test_tool_use_round_trip_in_the_agent_loop(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply(
        "Reading both.",
        tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"}), ToolCall("Read", {"file_path": "missing.py"})],
    )
    fake.reply("## Changes\nNothing to do.")
    run = agent(fake, tmp_path)

    assert run.outcome.ok, run.outcome.error
    assert run.outcome.handoff == "## Changes\nNothing to do."
    assert run.outcome.turns == 2 and run.outcome.tool_calls == {"Read": 2}
    first, second = fake.requests
    assert [r.status for r in fake.requests] == [200, 200]  # the fake validates tool_result placement
    assert [t["name"] for t in first.body["tools"]] == ["Read"]
    assert first.body["tools"][0]["input_schema"]["required"] == ["file_path"]

    returned = first.response_json["content"]
    ids = [block["id"] for block in returned if block["type"] == "tool_use"]
    assistant, results = second.body["messages"][1], second.body["messages"][2]
    assert assistant["role"] == "assistant"
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert [b["id"] for b in assistant["content"][1:]] == ids
    assert assistant["content"][1]["input"] == {"file_path": "src/greet.py"}
    assert results["role"] == "user"
    assert [b["type"] for b in results["content"]] == ["tool_result", "tool_result"]
    assert [b["tool_use_id"] for b in results["content"]] == ids
    assert 'return "Hello " + name' in results["content"][0]["content"]
    assert results["content"][0]["is_error"] is False
    assert results["content"][1]["is_error"] is True
    assert len(run.calls) == 2 and all(c["status"] == "ok" for c in run.calls)


def test_tool_results_open_the_message_that_carries_the_final_turn_note(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})])
    fake.reply("Final answer.")
    run = agent(fake, tmp_path, max_turns=2)

    assert run.outcome.ok and run.outcome.handoff == "Final answer."
    last = fake.requests[1].body
    assert "tools" not in last  # the last turn offers no tools
    content = last["messages"][2]["content"]
    assert [b["type"] for b in content] == ["tool_result", "text"]
    assert content[1]["text"] == FINAL_TURN_NOTE
    assert content[1]["cache_control"] == CACHE and "cache_control" not in content[0]


def test_usage_maps_cache_reads_and_writes(fake: FakeAnthropic) -> None:
    fake.reply("ok", usage=anthropic_usage(11, 22, write=3, read=5))
    usage = complete(fake, request()).usage
    assert usage == Usage(input_tokens=11, output_tokens=22, cache_read_tokens=5, cache_write_tokens=3)
    assert usage.context_tokens == 19


def test_usage_fields_absent_or_null_count_as_zero(fake: FakeAnthropic) -> None:
    fake.reply("ok", usage={"input_tokens": 7, "output_tokens": 2, "cache_creation_input_tokens": None})
    usage = complete(fake, request()).usage
    assert usage == Usage(input_tokens=7, output_tokens=2, cache_read_tokens=0, cache_write_tokens=0)


def test_unknown_block_types_are_ignored(fake: FakeAnthropic) -> None:
    fake.reply(
        content=[
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig"},
            {"type": "brand_new_block", "payload": {"x": 1}},
            {"type": "text", "text": "The answer."},
        ]
    )
    response = complete(fake, request())
    assert response.text == "The answer." and response.tool_calls == () and response.provider_parts == ()
    assert response.as_message() == Message("assistant", (TextPart("The answer."),))


def test_server_tool_blocks_are_kept_and_sent_back_verbatim(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply("Searched; now the code.", extra_blocks=SERVER_BLOCKS, tool_calls=[ToolCall("Read", {"file_path": "x"})])
    fake.reply("## External notes\n- operator.mul exists.")
    run = agent(fake, tmp_path, name="researcher-web", web_search=True)

    assert run.outcome.ok, run.outcome.error
    first, second = fake.requests
    assert first.body["tools"][-1] == {**WEB_SEARCH_TOOL, "cache_control": CACHE}
    assert [t["name"] for t in first.body["tools"]] == ["Read", "web_search"]
    sent_back = second.body["messages"][1]["content"]
    assert [b["type"] for b in sent_back] == ["server_tool_use", "web_search_tool_result", "text", "tool_use"]
    assert sent_back[:2] == SERVER_BLOCKS
    assert sent_back[:2] == first.response_json["content"][:2]
    assert second.status == 200


def test_provider_parts_of_other_providers_are_dropped() -> None:
    history = (
        user("go"),
        Message("assistant", (ProviderPart("openai", {"type": "x"}), TextPart("hi"))),
        user("more"),
    )
    params = build_params(request(messages=history), MODEL)
    assert params["messages"][1]["content"] == [{"type": "text", "text": "hi"}]


# ---------------------------------------------------------------- stop reasons
@pytest.mark.parametrize(
    ("reply", "stop", "text", "calls"),
    [
        (Reply("All done."), "end_turn", "All done.", 0),
        (Reply("Reading.", tool_calls=(ToolCall("Read", {"file_path": "a"}),)), "tool_use", "Reading.", 1),
        (Reply("The plan is cut sh", stop_reason="max_tokens"), "max_tokens", "The plan is cut sh", 0),
        (Reply("Up to the stop", stop_reason="stop_sequence"), "stop_sequence", "Up to the stop", 0),
    ],
)
def test_ordinary_stop_reasons(fake: FakeAnthropic, reply: Reply, stop: str, text: str, calls: int) -> None:
    fake.enqueue(reply)
    response = complete(fake, request())
    assert (response.stop_reason, response.text, len(response.tool_calls)) == (stop, text, calls)
    assert len(fake.requests) == 1


def test_pause_turn_is_continued_and_usage_summed(fake: FakeAnthropic) -> None:
    fake.reply(
        "Searching. ",
        extra_blocks=SERVER_BLOCKS[:1],
        stop_reason="pause_turn",
        usage=anthropic_usage(100, 10, write=7, read=0),
    )
    fake.reply(
        "Found it.",
        extra_blocks=SERVER_BLOCKS[1:],
        usage=anthropic_usage(30, 20, write=1, read=90),
    )
    response = complete(fake, request(web_search=True))

    assert len(fake.requests) == 2 and all(r.status == 200 for r in fake.requests)
    assert response.stop_reason == "end_turn"
    assert response.text == "Searching. Found it."
    assert response.usage == Usage(input_tokens=130, output_tokens=30, cache_read_tokens=90, cache_write_tokens=8)
    assert [p.data for p in response.provider_parts] == SERVER_BLOCKS
    # The paused turn goes back as-is, as the last (assistant) message, for the model to continue.
    continued = fake.requests[1].body["messages"]
    assert continued[:-1] == fake.requests[0].body["messages"]
    assert continued[-1] == {
        "role": "assistant",
        "content": [SERVER_BLOCKS[0], {"type": "text", "text": "Searching. "}],
    }


def test_pause_turn_continuations_are_bounded(fake: FakeAnthropic) -> None:
    fake.default = Reply("still going ", stop_reason="pause_turn")
    with pytest.raises(ModelError, match="kept pausing"):
        complete(fake, request(web_search=True))
    assert 2 <= len(fake.requests) <= 5  # continued, but never forever, and never taken as a finished answer


@pytest.mark.parametrize(
    ("stop", "words"),
    [("refusal", "refused"), ("model_context_window_exceeded", "context window")],
)
def test_failing_stop_reasons_raise_a_clear_model_error(fake: FakeAnthropic, stop: str, words: str) -> None:
    fake.reply("I can't", stop_reason=stop)
    with pytest.raises(ModelError, match=words) as excinfo:
        complete(fake, request())
    message = str(excinfo.value)
    assert MODEL in message and stop in message
    assert not (isinstance(excinfo.value, ProviderError) and excinfo.value.retryable)


def test_refusal_is_not_retried_and_fails_the_agent(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply("No.", stop_reason="refusal")
    adapter = provider(fake)
    run = run_one_agent(RetryingModel(adapter.model(MODEL), RetryPolicy(max_attempts=4)), tmp_path, close=[adapter])
    assert not run.outcome.ok
    assert run.outcome.error is not None and "refused" in run.outcome.error
    assert len(fake.requests) == 1
    assert [c["status"] for c in run.calls] == ["error"]


# ---------------------------------------------------------------- cache_control placement
TOOLS = (ToolDefinition("Read", "Read a file", SCHEMA), ToolDefinition("Grep", "Search", SCHEMA))
HISTORY = (
    user("task"),
    Message("assistant", (TextPart("reading"), NeutralToolCall("toolu_1", "Read", {"path": "a"}))),
    Message("user", (ToolResultPart("toolu_1", "contents"),)),
)


def test_build_params_marks_the_stable_prefix_and_the_newest_message() -> None:
    params = build_params(request(tools=TOOLS, context="shared facts", messages=HISTORY), MODEL)
    assert breakpoints(params) == ["tools[1]", "system[0]", "system[1]", "messages[2][0]"]
    assert params["system"] == [
        {"type": "text", "text": "shared facts", "cache_control": CACHE},  # shared context first
        {"type": "text", "text": "You plan.", "cache_control": CACHE},
    ]
    assert params["messages"][2]["content"][0]["type"] == "tool_result"
    assert params["tools"][0] == {"name": "Read", "description": "Read a file", "input_schema": SCHEMA}


def test_web_search_adds_the_server_tool_as_the_last_cached_tool() -> None:
    params = build_params(request(tools=TOOLS, web_search=True), MODEL)
    assert params["tools"][-1] == {**WEB_SEARCH_TOOL, "cache_control": CACHE}
    assert WEB_SEARCH_TOOL["name"] == "web_search" and str(WEB_SEARCH_TOOL["type"]).startswith("web_search_")
    assert breakpoints(params) == ["tools[2]", "system[0]", "messages[0][0]"]
    assert "tools" not in build_params(request(), MODEL)


@pytest.mark.parametrize(
    ("tools", "web", "context", "system", "messages"),
    list(itertools.product([(), TOOLS], [False, True], ["", "ctx"], ["", "sys"], [HISTORY[:1], HISTORY])),
)
def test_never_more_than_four_breakpoints(
    tools: tuple[ToolDefinition, ...], web: bool, context: str, system: str, messages: tuple[Message, ...]
) -> None:
    params = build_params(ModelRequest("a", system, messages, tools=tools, context=context, web_search=web), MODEL)
    marks = breakpoints(params)
    assert len(marks) <= 4
    assert marks[-1] == f"messages[{len(params['messages']) - 1}][{len(params['messages'][-1]['content']) - 1}]"
    assert ("tools" in params) == bool(tools or web)
    if tools or web:
        assert marks[0] == f"tools[{len(params['tools']) - 1}]"


def test_the_fake_accepts_the_full_set_of_breakpoints(fake: FakeAnthropic) -> None:
    fake.reply("ok")
    complete(fake, request(tools=TOOLS, context="shared facts", messages=HISTORY, web_search=True))
    assert fake.last_request.status == 200
    assert len(breakpoints(fake.last_request.body)) == 4


# ---------------------------------------------------------------- prompt caching, measured
def _prefix_tokens(body: dict[str, Any], through_blocks: int) -> int:
    """What the fake bills for the first `through_blocks` prompt blocks (tools -> system -> messages)."""
    return math.ceil(sum(b.chars for b in prompt_blocks(body)[:through_blocks]) / 4)


def test_a_multi_turn_agent_writes_the_cache_then_reads_it(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})])
    fake.reply("## Changes\nNone needed.")
    table = load_price_table()
    run = agent(fake, tmp_path, prompt=LONG_SYSTEM, price=table.cost)

    assert run.outcome.ok, run.outcome.error
    first, second = run.calls
    assert first["cache_read_tokens"] == 0
    assert first["cache_write_tokens"] >= 1024  # system prompt + tools + task: above the 1,024-token minimum
    assert second["cache_read_tokens"] == _prefix_tokens(fake.requests[0].body, 2)  # Read tool + system prompt
    assert second["cache_write_tokens"] > 0  # the new turn extends the cached prefix
    assert second["input_tokens"] < second["cache_read_tokens"]
    for record in run.calls:
        usage = Usage(
            record["input_tokens"], record["output_tokens"], record["cache_read_tokens"], record["cache_write_tokens"]
        )
        assert record["cost_usd"] == pytest.approx(table.cost(MODEL, usage))
    agent_usage = run.outcome.usage
    assert agent_usage.cache_read_tokens == second["cache_read_tokens"]
    assert agent_usage.cache_write_tokens == first["cache_write_tokens"] + second["cache_write_tokens"]
    assert run.outcome.cost_usd == pytest.approx(first["cost_usd"] + second["cost_usd"])


def test_with_lookback_the_second_turn_reads_everything_the_first_wrote(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.cache_lookback = 20  # the real API looks back ~20 blocks from a breakpoint
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})])
    fake.reply("done")
    run = agent(fake, tmp_path, prompt=LONG_SYSTEM)
    first, second = run.calls
    assert second["cache_read_tokens"] == first["cache_write_tokens"] + first["cache_read_tokens"] > 0


def test_agents_sharing_tools_and_context_read_the_shared_prefix(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply("## Findings\nA.").reply("## Review\nB.")
    run_a = agent(
        fake, tmp_path / "a", name="reviewer", prompt="You are the reviewer.",
        context=SHARED_CONTEXT, tools=("Read", "Grep"),
    )  # fmt: skip
    run_b = agent(
        fake, tmp_path / "b", name="security-auditor", prompt="You are the auditor.",
        context=SHARED_CONTEXT, tools=("Read", "Grep"),
    )  # fmt: skip
    assert run_a.outcome.ok and run_b.outcome.ok
    body_a, body_b = (r.body for r in fake.requests)
    shared = _prefix_tokens(body_b, 3)  # Grep, Read, then the shared context block
    assert shared >= 1024
    assert _prefix_tokens(body_a, 3) == shared  # same tools, same context: same prefix

    (call_a,), (call_b,) = run_a.calls, run_b.calls
    assert call_a["cache_read_tokens"] == 0 and call_a["cache_write_tokens"] >= shared
    assert call_b["cache_read_tokens"] == shared  # the second agent pays the cache-read price for it
    assert call_b["cache_write_tokens"] > 0  # and writes its own system prompt and task on top


def test_a_different_context_shares_nothing(fake: FakeAnthropic, tmp_path: Path) -> None:
    agent(fake, tmp_path / "a", context=SHARED_CONTEXT)
    run_b = agent(fake, tmp_path / "b", context=SHARED_CONTEXT.replace("calc", "calx"))
    assert run_b.calls[0]["cache_read_tokens"] == 0


def test_a_short_prompt_is_not_cached_and_nothing_fails(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})]).reply("done")
    run = agent(fake, tmp_path)
    assert run.outcome.ok
    assert all(c["cache_read_tokens"] == 0 and c["cache_write_tokens"] == 0 for c in run.calls)
    assert GREET.splitlines()[0] in fake.requests[1].body["messages"][2]["content"][0]["content"]
