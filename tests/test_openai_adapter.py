"""The OpenAI-compatible adapter through the official SDK, pointed at the local fake Chat Completions API.

Covers tool calls whose argument string is invalid (the model is told, the run goes on), usage normalised to the
metric convention (input excludes cached tokens), missing usage (estimated and marked), local servers without a
key, and the token-limit parameter each kind of server expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes.openai import LLAMA_CPP_TIMINGS, FakeOpenAI
from fakes.server import ToolCall
from provider_support import GREET, AgentRun, SpyTool, close_clients, run_one_agent, shared_tls_context

from autodev.agent.runtime import FINAL_TURN_NOTE
from autodev.models import (
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    ProviderError,
    TextPart,
    ToolDefinition,
    Usage,
)
from autodev.models.adapters.openai import LOCAL_KEY, OpenAIModel, OpenAIProvider, build_params, parse_arguments
from autodev.models.pricing import load_price_table

MODEL = "gpt-5-mini"

server = FakeOpenAI.fixture("openai_server", scope="module")


@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():  # SDK clients are made per test: load the CA bundle once
        yield


@pytest.fixture
def fake(openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    openai_server.reset()
    yield openai_server
    assert not openai_server.internal_errors


local_server = FakeOpenAI.fixture("local_server", require_key=False)


def provider(fake: FakeOpenAI, api_key: str | None = "sk-test") -> OpenAIProvider:
    return OpenAIProvider(api_key=api_key, base_url=fake.base_url)


def request(**kwargs: Any) -> ModelRequest:
    fields: dict[str, Any] = {
        "agent": "planner",
        "system": "You plan.",
        "messages": (Message("user", (TextPart("hello"),)),),
        "max_tokens": 512,
        **kwargs,
    }
    return ModelRequest(**fields)


def complete(adapter: OpenAIProvider, req: ModelRequest, *, official_api: bool | None = None) -> ModelResponse:
    async def main() -> ModelResponse:
        try:
            if official_api is None:
                model = adapter.model(MODEL)
            else:
                model = OpenAIModel(adapter._client, MODEL, official_api=official_api)
            response: ModelResponse = await model.complete(req)
            return response
        finally:
            await close_clients([adapter])

    return anyio.run(main)


def agent(fake: FakeOpenAI, tmp_path: Path, **kwargs: Any) -> AgentRun:
    adapter = provider(fake)
    return run_one_agent(adapter.model(MODEL), tmp_path, close=[adapter], **kwargs)


# ---------------------------------------------------------------- replies
def test_text_reply_through_the_sdk(fake: FakeOpenAI) -> None:
    fake.reply("Here is the plan.")
    response = complete(provider(fake), request(context="shared facts"))

    assert response.text == "Here is the plan." and response.tool_calls == ()
    assert response.stop_reason == "end_turn" and response.model == MODEL
    assert response.usage_estimated is False and response.usage.input_tokens > 0
    sent = fake.last_request
    assert sent.status == 200 and sent.header("authorization") == "Bearer sk-test"
    assert sent.body["messages"] == [
        {"role": "system", "content": "shared facts\n\nYou plan."},  # the shared context first: a cacheable prefix
        {"role": "user", "content": "hello"},
    ]
    assert "tools" not in sent.body and "stream" not in sent.body
    adapter = provider(fake)
    assert adapter.name == "openai" and adapter.web_search is False


def test_reported_model_and_length_stop(fake: FakeOpenAI) -> None:
    fake.reply("The plan is cut sh", stop_reason="length", model="gpt-5-mini-2025-08-07")
    response = complete(provider(fake), request())
    assert response.stop_reason == "max_tokens" and response.text == "The plan is cut sh"
    assert response.model == "gpt-5-mini-2025-08-07"


def test_tool_round_trip_uses_role_tool_messages(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.reply(
        "Reading.",
        tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"}), ToolCall("Read", {"file_path": "nope.py"})],
    )
    fake.reply("## Changes\nNone.")
    run = agent(fake, tmp_path)

    assert run.outcome.ok, run.outcome.error
    assert run.outcome.tool_calls == {"Read": 2} and run.outcome.turns == 2
    first, second = fake.requests
    assert [r.status for r in fake.requests] == [200, 200]  # the fake validates tool message placement
    assert first.body["tools"][0]["type"] == "function"
    assert first.body["tools"][0]["function"]["name"] == "Read"
    assert first.body["tools"][0]["function"]["parameters"]["required"] == ["file_path"]

    ids = [c["id"] for c in first.response_json["choices"][0]["message"]["tool_calls"]]
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool"]
    assistant = second.body["messages"][2]
    assert assistant["content"] == "Reading."
    assert [c["id"] for c in assistant["tool_calls"]] == ids
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"file_path": "src/greet.py"}
    tool_messages = second.body["messages"][3:]
    assert [m["tool_call_id"] for m in tool_messages] == ids
    assert GREET.splitlines()[1].strip() in tool_messages[0]["content"]
    assert tool_messages[1]["content"].startswith("Error:")


def test_the_final_turn_note_follows_the_tool_messages(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})]).reply("Final answer.")
    run = agent(fake, tmp_path, max_turns=2)
    assert run.outcome.ok and run.outcome.handoff == "Final answer."
    last = fake.requests[1].body
    assert "tools" not in last  # the last turn offers no tools
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "tool", "user"]
    assert last["messages"][-1] == {"role": "user", "content": FINAL_TURN_NOTE}


def test_invalid_json_arguments_are_not_run_and_the_model_retries(fake: FakeOpenAI, tmp_path: Path) -> None:
    spy = SpyTool()
    fake.reply(tool_calls=[ToolCall("Spy", raw_arguments='{"path": "a.py", ')])
    fake.reply(tool_calls=[ToolCall("Spy", {"path": "a.py"})])
    fake.reply("## Done\nSpied on a.py.")
    run = agent(fake, tmp_path, tools=(), extra_tools={"Spy": spy})

    assert run.outcome.ok, run.outcome.error
    assert run.outcome.turns == 3 and run.outcome.handoff == "## Done\nSpied on a.py."
    assert spy.calls == [{"path": "a.py"}]  # the broken call never reached the tool
    told = fake.requests[1].body["messages"][-1]
    assert told["role"] == "tool"
    assert told["content"].startswith("Error: the arguments were not valid JSON")
    assert "Call Spy again with valid JSON" in told["content"] and '{"path": "a.py", ' in told["content"]
    assert fake.requests[2].body["messages"][-1]["content"] == "spied a.py"
    assert [c["status"] for c in run.calls] == ["ok", "ok", "ok"]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [('["a.py"]', "list"), ('"a.py"', "str"), ("42", "int"), ("null", "NoneType"), ("true", "bool")],
)
def test_non_object_arguments_are_an_input_error(fake: FakeOpenAI, raw: str, kind: str) -> None:
    fake.reply(tool_calls=[ToolCall("Spy", raw_arguments=raw)])
    (call,) = complete(provider(fake), request()).tool_calls
    assert call.name == "Spy" and call.input == {}
    assert call.input_error == f"the arguments must be a JSON object, got {kind}"


def test_empty_arguments_mean_no_arguments() -> None:
    assert parse_arguments("") == ({}, None)
    assert parse_arguments("  ") == ({}, None)
    assert parse_arguments(None) == ({}, None)
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    value, problem = parse_arguments("{oops")
    assert value == {} and problem is not None and "not valid JSON" in problem and "{oops" in problem


def test_a_non_object_argument_string_through_the_agent_loop(fake: FakeOpenAI, tmp_path: Path) -> None:
    spy = SpyTool()
    fake.reply(tool_calls=[ToolCall("Spy", raw_arguments='["a.py"]')]).reply("gave up")
    run = agent(fake, tmp_path, tools=(), extra_tools={"Spy": spy})
    assert run.outcome.ok and spy.calls == []
    assert "must be a JSON object, got list" in fake.requests[1].body["messages"][-1]["content"]


# ---------------------------------------------------------------- usage
def test_usage_is_normalised_so_input_excludes_cached_tokens(fake: FakeOpenAI) -> None:
    fake.reply("ok", usage={"prompt_tokens": 1000, "completion_tokens": 50, "cached_tokens": 400})
    usage = complete(provider(fake), request()).usage
    assert usage == Usage(input_tokens=600, output_tokens=50, cache_read_tokens=400, cache_write_tokens=0)
    assert usage.context_tokens == 1000


def test_usage_without_details_counts_no_cache(fake: FakeOpenAI) -> None:
    fake.reply("ok", usage={"prompt_tokens": 70, "completion_tokens": 5, "prompt_tokens_details": None})
    assert complete(provider(fake), request()).usage == Usage(70, 5, 0, 0)


def test_missing_usage_is_estimated_and_marked(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.reply("## Findings\nThe greet function lives in src/greet.py.", omit_usage=True)
    table = load_price_table()
    run = agent(fake, tmp_path, price=table.cost)

    assert run.outcome.ok
    (record,) = run.calls
    assert record["usage_estimated"] is True
    assert record["input_tokens"] > 0 and record["output_tokens"] > 0
    assert record["cache_read_tokens"] == 0 and record["cache_write_tokens"] == 0
    assert run.outcome.usage.input_tokens == record["input_tokens"]


def test_reported_usage_is_not_marked_estimated(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.reply("done")
    (record,) = agent(fake, tmp_path).calls
    assert "usage_estimated" not in record or record["usage_estimated"] is False


def test_llama_cpp_timings_are_tolerated(fake: FakeOpenAI) -> None:
    fake.reply("from llama.cpp", extra={"timings": dict(LLAMA_CPP_TIMINGS)}, omit_usage=True)
    response = complete(provider(fake), request())
    # no usage object, but the timings count the prompt and the reply: the server's own figures, not estimates
    assert response.text == "from llama.cpp" and response.usage_estimated is False
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 5)
    fake.reply("with usage", extra={"timings": dict(LLAMA_CPP_TIMINGS)}, usage={"prompt_tokens": 12})
    response = complete(provider(fake), request())
    assert response.usage_estimated is False and response.usage.input_tokens == 12


# ---------------------------------------------------------------- local servers and the official API
def test_local_server_without_a_key(local_server: FakeOpenAI, tmp_path: Path) -> None:
    local_server.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})]).reply("done locally")
    adapter = OpenAIProvider(base_url=local_server.base_url)  # no api_key, none in the environment
    run = run_one_agent(adapter.model("qwen2.5-coder:7b"), tmp_path, close=[adapter])
    assert run.outcome.ok and run.outcome.handoff == "done locally"
    assert local_server.last_request.header("authorization") == f"Bearer {LOCAL_KEY}"
    assert all(r.body["model"] == "qwen2.5-coder:7b" for r in local_server.requests)


def test_custom_base_url_sends_max_tokens(local_server: FakeOpenAI) -> None:
    adapter = OpenAIProvider(base_url=local_server.base_url)
    assert adapter.official_api is False
    complete(adapter, request())
    body = local_server.last_request.body
    assert body["max_tokens"] == 512 and "max_completion_tokens" not in body


def test_official_api_sends_max_completion_tokens(fake: FakeOpenAI) -> None:
    complete(provider(fake), request(), official_api=True)
    body = fake.last_request.body
    assert body["max_completion_tokens"] == 512 and "max_tokens" not in body


def test_which_base_urls_count_as_the_official_api() -> None:
    assert OpenAIProvider(api_key="k").official_api is True
    assert OpenAIProvider(api_key="k", base_url="https://api.openai.com/v1").official_api is True
    assert OpenAIProvider(base_url="http://localhost:11434/v1").official_api is False
    assert "max_completion_tokens" in build_params(request(), MODEL, official_api=True)
    assert "max_tokens" in build_params(request(), MODEL, official_api=False)


def test_a_key_the_server_refuses_is_a_clear_unretryable_error() -> None:
    with FakeOpenAI(bad_key="sk-revoked") as fake:
        adapter = OpenAIProvider(api_key="sk-revoked", base_url=fake.base_url)
        with pytest.raises(ProviderError) as excinfo:
            complete(adapter, request())
    assert excinfo.value.status == 401 and excinfo.value.retryable is False
    assert "OPENAI_API_KEY" in str(excinfo.value)


def test_content_filter_is_a_model_error(fake: FakeOpenAI) -> None:
    fake.reply(None, stop_reason="content_filter")
    with pytest.raises(ModelError, match="content filter") as excinfo:
        complete(provider(fake), request())
    assert MODEL in str(excinfo.value)
    assert not (isinstance(excinfo.value, ProviderError) and excinfo.value.retryable)


def test_tool_choice_auto_is_sent_whenever_tools_are_offered() -> None:
    """Issue 20: llama-cpp-python's function-calling formats drop the tools unless tool_choice is sent."""
    tool = ToolDefinition("Read", "Read a file.", {"type": "object", "properties": {}})
    for official in (True, False):
        with_tools = build_params(ModelRequest("a", "sys", (), tools=(tool,)), MODEL, official_api=official)
        assert with_tools["tool_choice"] == "auto"
        assert "tool_choice" not in build_params(request(), MODEL, official_api=official)
