"""The local fake providers speak the wire protocol the official SDKs expect (no network: 127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from fakes.anthropic import FakeAnthropic
from fakes.openai import LLAMA_CPP_TIMINGS, FakeOpenAI
from fakes.server import Error, Reply, ToolCall

MODEL = "claude-test"
USER_HI: list[Any] = [{"role": "user", "content": "hi"}]
LONG_SYSTEM = "You are a careful engineer. " * 200  # ~5,600 chars -> ~1,400 tokens, above the 1,024 minimum

# One server and one SDK client per module (building an SDK client costs ~50 ms), reset before every test.
anthropic_server = FakeAnthropic.fixture("anthropic_server", scope="module")
openai_server = FakeOpenAI.fixture("openai_server", scope="module")


@pytest.fixture
def fake_anthropic(anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    anthropic_server.reset()
    yield anthropic_server
    assert not anthropic_server.internal_errors


@pytest.fixture
def fake_openai(openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    openai_server.reset()
    yield openai_server
    assert not openai_server.internal_errors


@pytest.fixture(scope="module")
def claude(anthropic_server: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=anthropic_server.base_url, api_key="k", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def gpt(openai_server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0) as client:
        yield client


fresh_openai = FakeOpenAI.fixture("fresh_openai", require_key=False)


def test_fixture_helper_builds_a_fresh_server(fresh_openai: FakeOpenAI) -> None:
    assert fresh_openai.base_url.endswith("/v1") and fresh_openai.requests == []
    assert fresh_openai.require_key is False


def ask(client: anthropic.Anthropic, **kwargs: Any) -> Any:
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": USER_HI, **kwargs}
    return client.messages.create(**params)


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    params: dict[str, Any] = {"model": "gpt-test", "messages": USER_HI, **kwargs}
    return client.chat.completions.create(**params)


def raw_post(url: str, body: Any, headers: dict[str, str]) -> httpx2.Response:
    with httpx2.Client() as client:
        return client.post(
            url, content=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
        )


# ==================================================================================================================
# Anthropic


def test_anthropic_text_reply_and_request_recording(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    fake_anthropic.reply("Hello there.")
    message = ask(claude)

    assert message.type == "message" and message.role == "assistant" and message.model == MODEL
    assert message.id.startswith("msg_")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Hello there."
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_creation_input_tokens == 0 and message.usage.cache_read_input_tokens == 0

    request = fake_anthropic.last_request
    assert (request.method, request.path, request.status) == ("POST", "/v1/messages", 200)
    assert request.body == {"model": MODEL, "max_tokens": 256, "messages": USER_HI}
    # SDK 2.x authenticates with a Bearer token, not x-api-key, and pins the 2026-10-21 API version.
    assert request.header("Authorization") == "Bearer k"
    assert request.header("x-api-key") is None
    assert request.header("anthropic-version") == "2026-10-21"
    assert request.header("x-stainless-retry-count") == "0"

    # The queue is empty now: the default reply answers.
    assert ask(claude).content[0].text == "ok"
    assert fake_anthropic.pending == 0 and len(fake_anthropic.requests) == 2


def test_anthropic_response_headers(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    response = claude.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=USER_HI)
    assert response.headers["request-id"].startswith("req_")
    assert response.request_id == response.headers["request-id"]
    assert int(response.headers["anthropic-ratelimit-requests-remaining"]) < int(
        response.headers["anthropic-ratelimit-requests-limit"]
    )
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert f"anthropic-ratelimit-{kind}-reset" in response.headers
    parsed: Any = response.parse()
    assert parsed.content[0].text == "ok"


def test_anthropic_tool_use_round_trip(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    tools = [{"name": "read_file", "description": "Read a file", "input_schema": {"type": "object"}}]
    fake_anthropic.reply("Let me look.", tool_calls=[ToolCall("read_file", {"path": "a.py"})])
    fake_anthropic.reply("Done.")

    first = ask(claude, tools=tools)
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    tool_use = first.content[1]
    assert tool_use.type == "tool_use" and tool_use.id.startswith("toolu_")
    assert (tool_use.name, tool_use.input) == ("read_file", {"path": "a.py"})

    history: list[Any] = [
        *USER_HI,
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use.id, "content": "print(1)", "is_error": False},
                {"type": "text", "text": "continue"},
            ],
        },
    ]
    second = ask(claude, tools=tools, messages=history)
    assert second.stop_reason == "end_turn" and second.content[0].text == "Done."
    assert fake_anthropic.last_request.body["messages"][2]["content"][0]["tool_use_id"] == tool_use.id


@pytest.mark.parametrize(
    ("last_user_content", "expected"),
    [
        ([{"type": "text", "text": "forgot the result"}], "without `tool_result` blocks"),
        (
            [{"type": "text", "text": "first"}, {"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}],
            "without `tool_result` blocks",
        ),
        ([{"type": "tool_result", "tool_use_id": "toolu_other", "content": "x"}], "unexpected `tool_use_id`"),
    ],
)
def test_anthropic_rejects_unanswered_tool_use(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic, last_user_content: list[Any], expected: str
) -> None:
    fake_anthropic.reply("scripted")
    history = [
        *USER_HI,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]},
        {"role": "user", "content": last_user_content},
    ]
    with pytest.raises(anthropic.BadRequestError, match=expected) as excinfo:
        ask(claude, messages=history)
    assert excinfo.value.type == "invalid_request_error"
    assert fake_anthropic.pending == 1  # invalid requests never consume scripted replies


def test_anthropic_usage_override_and_unknown_blocks(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic
) -> None:
    fake_anthropic.reply(
        "Found it.",
        extra_blocks=[
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "brand_new_block", "payload": 1},
        ],
        usage={"input_tokens": 11, "output_tokens": 22, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 5},
    )
    message = ask(claude)
    assert [block.type for block in message.content] == [
        "server_tool_use",
        "web_search_tool_result",
        "brand_new_block",
        "text",
    ]
    assert message.content[-1].text == "Found it."
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (11, 22)
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (3, 5)


def test_anthropic_rate_limit_exposes_retry_after(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    fake_anthropic.error(429, headers={"retry-after": "7"})
    with pytest.raises(anthropic.RateLimitError) as excinfo:
        ask(claude)
    error = excinfo.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.type == "rate_limit_error" and error.request_id is not None
    assert error.body == {"type": "error", "error": {"type": "rate_limit_error", "message": error.api_message}}


def test_anthropic_sdk_retries_honour_retry_after_ms(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_anthropic.error(429, headers={"retry-after-ms": "10"}).error(529, headers={"retry-after": "0.02"})
    fake_anthropic.reply("third time lucky")
    waits: list[float] = []
    real_sleep, caller = time.sleep, threading.current_thread()

    def sleep(seconds: float) -> None:  # the SDK's waits between attempts (this thread's only)
        if threading.current_thread() is caller:
            waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    message = ask(claude.with_options(max_retries=2))
    assert message.content[0].text == "third time lucky"
    assert waits == [pytest.approx(0.01), pytest.approx(0.02)]  # what the server said, not the SDK's backoff
    assert [r.status for r in fake_anthropic.requests] == [429, 529, 200]
    assert [r.header("x-stainless-retry-count") for r in fake_anthropic.requests] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_anthropic_error_statuses(
    fake_anthropic: FakeAnthropic,
    claude: anthropic.Anthropic,
    status: int,
    exception: type[anthropic.APIStatusError],
    error_type: str,
) -> None:
    fake_anthropic.error(status)
    with pytest.raises(exception) as excinfo:
        ask(claude)
    assert excinfo.value.status_code == status and excinfo.value.type == error_type
    assert isinstance(excinfo.value, anthropic.APIStatusError)


def test_anthropic_overloaded_is_an_internal_server_error(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic
) -> None:
    fake_anthropic.error(529)
    with pytest.raises(anthropic.InternalServerError) as excinfo:
        ask(claude)
    assert type(excinfo.value) is anthropic.OverloadedError and excinfo.value.status_code == 529


def test_anthropic_auth_styles(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    with FakeAnthropic(bad_key="revoked") as fake:
        # SDK 2.x: Authorization: Bearer.
        with anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as client:
            assert ask(client).content
        # x-api-key through default_headers (no api_key at all: the SDK accepts an X-Api-Key header instead).
        with anthropic.Anthropic(base_url=fake.base_url, default_headers={"x-api-key": "k"}, max_retries=0) as client:
            assert ask(client).content
        assert fake.last_request.header("x-api-key") == "k" and fake.last_request.header("authorization") is None
        # x-api-key on a raw httpx2 request, like SDK 0.x.
        body = {"model": MODEL, "max_tokens": 5, "messages": USER_HI}
        version = {"anthropic-version": "2023-06-01"}
        response = raw_post(fake.base_url + "/v1/messages", body, {"x-api-key": "k", **version})
        assert response.status_code == 200 and response.json()["type"] == "message"
        # Neither header -> 401 authentication_error.
        response = raw_post(fake.base_url + "/v1/messages", body, version)
        assert response.status_code == 401
        assert response.json() == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "x-api-key header is required"},
        }
        # The configured bad key -> 401 through the SDK.
        with (
            anthropic.Anthropic(base_url=fake.base_url, api_key="revoked", max_retries=0) as client,
            pytest.raises(anthropic.AuthenticationError) as excinfo,
        ):
            ask(client)
        assert excinfo.value.status_code == 401 and excinfo.value.type == "authentication_error"
        # Missing anthropic-version -> 400, like the real API.
        response = raw_post(fake.base_url + "/v1/messages", body, {"x-api-key": "k"})
        assert response.status_code == 400 and "anthropic-version" in response.json()["error"]["message"]


def test_anthropic_request_validation(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="temperature"):
        ask(claude, extra_body={"temperature": 0.2})
    with pytest.raises(anthropic.BadRequestError, match="top_k"):
        ask(claude, extra_body={"top_k": 5})
    with pytest.raises(anthropic.BadRequestError, match="streaming is not supported"):
        ask(claude, stream=True)
    with pytest.raises(anthropic.BadRequestError, match="non-whitespace"):
        ask(claude, messages=[{"role": "user", "content": [{"type": "text", "text": " "}]}])
    headers = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    for missing in ("model", "max_tokens", "messages"):
        body = {"model": MODEL, "max_tokens": 5, "messages": USER_HI}
        del body[missing]
        response = raw_post(fake_anthropic.base_url + "/v1/messages", body, headers)
        assert response.status_code == 400 and missing in response.json()["error"]["message"]
    with httpx2.Client() as client:
        response = client.post(fake_anthropic.base_url + "/v1/messages", content=b"{oops", headers=headers)
        assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
        response = client.get(fake_anthropic.base_url + "/v1/files", headers=headers)
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"
        response = client.get(fake_anthropic.base_url + "/v1/models", headers=headers)  # what it serves
        assert response.status_code == 200 and "claude-haiku-5-5" in response.text
    assert all(r.status in (400, 404) for r in fake_anthropic.requests)


def test_anthropic_malformed_bodies(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    # Invalid JSON labelled application/json: the SDK lets the bare json.JSONDecodeError escape (not an APIError).
    fake_anthropic.raw("{not json")
    with pytest.raises(json.JSONDecodeError):
        ask(claude)
    fake_anthropic.raw("")
    with pytest.raises(json.JSONDecodeError):
        ask(claude)
    # A non-JSON content type on a 200: the SDK returns the body text as a plain str instead of a Message.
    fake_anthropic.raw("<html>proxy page</html>", content_type="text/html")
    assert ask(claude) == "<html>proxy page</html>"
    # Valid JSON of the wrong shape: a Message whose fields are all None (no validation by default).
    fake_anthropic.raw('{"unexpected": true}')
    odd = ask(claude)
    assert isinstance(odd, anthropic.types.Message) and odd.content is None and odd.usage is None
    # A non-JSON error body: the status still picks the class; body and message are the raw text.
    fake_anthropic.raw("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    with pytest.raises(anthropic.InternalServerError) as excinfo:
        ask(claude)
    assert excinfo.value.status_code == 502 and excinfo.value.body == "<html>502 Bad Gateway</html>"
    assert excinfo.value.type is None


def test_anthropic_timeout_and_disconnect(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    fake_anthropic.delay(60)  # the server's stop wakes it
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        ask(claude, timeout=0.2)
    assert time.monotonic() - started < 30  # the client's timeout, not the answer's delay
    fake_anthropic.disconnect()
    with pytest.raises(anthropic.APIConnectionError) as excinfo:
        ask(claude)
    assert not isinstance(excinfo.value, anthropic.APITimeoutError)
    fake_anthropic.delay(0.05, then=Reply(text="late but fine"))
    assert ask(claude, timeout=5).content[0].text == "late but fine"


# ---------------------------------------------------------------------------------------------------- prompt cache


def cached_system(text: str = LONG_SYSTEM) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]


def cache_usage(message: anthropic.types.Message) -> tuple[int, int, int]:
    """(input_tokens, cache_creation_input_tokens, cache_read_input_tokens); the SDK types the cache fields Optional."""
    usage = message.usage
    return usage.input_tokens, usage.cache_creation_input_tokens or 0, usage.cache_read_input_tokens or 0


def test_anthropic_cache_write_then_read(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    first_input, written, first_read = cache_usage(ask(claude, system=cached_system()))
    second_input, second_written, read = cache_usage(ask(claude, system=cached_system()))
    assert written >= 1024 and first_read == 0
    assert second_written == 0 and read == written
    total = first_input + written
    assert second_input + read == total  # same prompt, same total
    assert second_input < 10  # only the short user turn is uncached
    served = fake_anthropic.last_request.response_json["usage"]  # what the server sent, for server-side accounting
    assert served["cache_read_input_tokens"] == read

    # No cache_control: neither write nor read, even though the same prefix is in the cache.
    assert cache_usage(ask(claude, system=LONG_SYSTEM)) == (total, 0, 0)
    # A different model has its own cache.
    assert cache_usage(ask(claude, model="claude-other", system=cached_system()))[1:] == (written, 0)
    # The cache belongs to the server, shared by every client.
    with anthropic.Anthropic(base_url=fake_anthropic.base_url, api_key="other", max_retries=0) as client:
        assert cache_usage(ask(client, system=cached_system()))[2] == written
    fake_anthropic.clear_cache()
    assert cache_usage(ask(claude, system=cached_system()))[1:] == (written, 0)


def test_anthropic_cache_below_minimum_and_limits(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    for _ in range(2):
        assert cache_usage(ask(claude, system=cached_system("short system prompt")))[1:] == (0, 0)
    assert fake_anthropic.cached_prefixes == 0
    tools = [
        {"name": f"t{i}", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}} for i in range(5)
    ]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks with cache_control"):
        ask(claude, tools=tools)
    with pytest.raises(anthropic.BadRequestError, match="ephemeral"):
        ask(claude, system=[{"type": "text", "text": "x", "cache_control": {"type": "forever"}}])


def test_anthropic_cache_grows_with_the_conversation(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic
) -> None:
    def turn(n: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        for i in range(n):
            messages.append({"role": "user", "content": [{"type": "text", "text": f"question {i} " * 30}]})
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"answer {i} " * 30}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": "next?"}]})
        messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
        return messages

    system = cached_system()
    _, first_written, first_read = cache_usage(ask(claude, system=system, messages=turn(1)))
    second_input, second_written, second_read = cache_usage(ask(claude, system=system, messages=turn(2)))
    # The system breakpoint written by the first request is read back; the new conversation tail is written.
    assert first_read == 0 and first_written > 1024
    assert 1024 < second_read < first_written
    assert second_written > 0 and second_input == 0
    # Sending the identical second request again reads everything.
    assert cache_usage(ask(claude, system=system, messages=turn(2))) == (0, 0, second_read + second_written)


def test_anthropic_cache_lookback_and_top_level_cache_control() -> None:
    with FakeAnthropic(cache_lookback=20) as fake, anthropic.Anthropic(base_url=fake.base_url, api_key="k") as client:
        history = [{"role": "user", "content": [{"type": "text", "text": "old question " * 400}]}]
        _, written, _ = cache_usage(ask(client, messages=history, extra_body={"cache_control": {"type": "ephemeral"}}))
        assert written >= 1024
        # The breakpoint now sits two blocks later; the lookback finds the prefix written at the earlier position.
        longer = [
            *history,
            {"role": "assistant", "content": [{"type": "text", "text": "answer"}]},
            {"role": "user", "content": [{"type": "text", "text": "more", "cache_control": {"type": "ephemeral"}}]},
        ]
        _, second_written, read = cache_usage(ask(client, messages=longer))
        assert read == written and second_written > 0
    with FakeAnthropic() as fake, anthropic.Anthropic(base_url=fake.base_url, api_key="k") as client:
        ask(client, messages=history, extra_body={"cache_control": {"type": "ephemeral"}})
        assert cache_usage(ask(client, messages=longer))[2] == 0  # no lookback by default: exact breakpoints only


# ---------------------------------------------------------------------------------------------------- faults, misc


def test_fault_injection_is_seeded_and_leaves_the_queue_alone(
    fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic
) -> None:
    def outcomes(seed: int) -> list[int | None]:
        fake_anthropic.reset()
        fake_anthropic.set_faults(0.5, seed=seed)
        fake_anthropic.reply("scripted")
        texts = []
        for _ in range(12):
            with contextlib.suppress(anthropic.OverloadedError):
                texts.append(ask(claude).content[0].text)
        assert texts[0] == "scripted" and set(texts[1:]) <= {"ok"}
        return [r.status for r in fake_anthropic.requests]

    first = outcomes(7)
    assert first == outcomes(7)
    assert set(first) == {200, 529}
    assert first != outcomes(8)


def test_fault_injection_with_a_custom_fault(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    fake_openai.set_faults(1.0, Error(503, headers={"retry-after": "1"}))
    fake_openai.reply("served after the outage")
    with pytest.raises(openai.InternalServerError) as excinfo:
        chat(gpt)
    assert excinfo.value.status_code == 503 and excinfo.value.response.headers["retry-after"] == "1"
    fake_openai.set_faults(0.0)
    assert chat(gpt).choices[0].message.content == "served after the outage"


def test_concurrent_requests_are_all_recorded(fake_anthropic: FakeAnthropic, claude: anthropic.Anthropic) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            ask(claude)
        except BaseException as exc:
            errors.append(exc)

    fake_anthropic.delay(0.1, then=Reply(text="slow"))
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert fake_anthropic.wait_for_requests(8, timeout=5)
    for thread in threads:
        thread.join(5)
    assert not errors and len(fake_anthropic.requests) == 8
    assert all(r.status == 200 for r in fake_anthropic.requests)


def test_server_shuts_down_cleanly() -> None:
    outcome: list[BaseException] = []

    def hang(client: anthropic.Anthropic) -> None:
        try:
            ask(client)
        except anthropic.APIConnectionError as exc:
            outcome.append(exc)

    with FakeAnthropic() as fake, anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as client:
        url = fake.base_url
        server_thread = fake._thread
        fake.delay(120)  # an answer still pending must not hold up shutdown
        hanging = threading.Thread(target=hang, args=(client,), daemon=True)
        hanging.start()
        assert fake.wait_for_requests(1)
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 60  # woken, not the 120 s delay
    assert server_thread is not None and not server_thread.is_alive()
    hanging.join(2)
    assert not hanging.is_alive() and len(outcome) == 1  # the client saw the connection drop
    with httpx2.Client() as raw_client, pytest.raises(httpx2.ConnectError):
        raw_client.post(url + "/v1/messages", content=b"{}")


# ==================================================================================================================
# OpenAI


def test_openai_text_reply_and_usage(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    fake_openai.reply("Hi!", usage={"prompt_tokens": 120, "completion_tokens": 7, "cached_tokens": 100})
    completion = chat(gpt)
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason, choice.message.role) == (0, "stop", "assistant")
    assert choice.message.content == "Hi!" and choice.message.tool_calls is None
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 7, 127)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 100

    default = chat(gpt)
    assert default.choices[0].message.content == "ok"
    assert default.usage is not None and default.usage.prompt_tokens > 0
    assert default.usage.total_tokens == default.usage.prompt_tokens + default.usage.completion_tokens

    request = fake_openai.last_request
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.header("authorization") == "Bearer k"
    assert request.body == {"model": "gpt-test", "messages": USER_HI}


def test_openai_tool_call_round_trip(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]
    fake_openai.reply(tool_calls=[ToolCall("read_file", {"path": "a.py"}), ToolCall("read_file", {"path": "b.py"})])
    fake_openai.reply("Both read.")

    first = chat(gpt, tools=tools)
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls" and message.content is None
    assert message.tool_calls is not None and len(message.tool_calls) == 2
    call = message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "read_file" and isinstance(call.function.arguments, str)
    assert json.loads(call.function.arguments) == {"path": "a.py"}

    history: list[Any] = [
        *USER_HI,
        message.model_dump(exclude_none=True),
        *({"role": "tool", "tool_call_id": c.id, "content": "data"} for c in message.tool_calls),
    ]
    second = chat(gpt, tools=tools, messages=history)
    assert second.choices[0].message.content == "Both read."

    fake_openai.reply("never sent")
    with pytest.raises(openai.BadRequestError, match="did not have response messages") as excinfo:
        chat(gpt, tools=tools, messages=history[:-1])
    assert excinfo.value.param == "messages.[1].role"
    with pytest.raises(openai.BadRequestError, match="must be a response to a preceeding message"):
        chat(gpt, messages=[*USER_HI, {"role": "tool", "tool_call_id": "call_x", "content": "x"}])
    assert fake_openai.pending == 1


def test_openai_local_server_quirks(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    fake_openai.reply(
        tool_calls=[ToolCall("edit", raw_arguments='{"path": "a.py", ')],
        omit_usage=True,
        extra={"timings": dict(LLAMA_CPP_TIMINGS)},
    )
    completion = chat(gpt)
    assert completion.usage is None
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None and tool_calls[0].function.arguments == '{"path": "a.py", '
    assert completion.model_extra is not None and completion.model_extra["timings"]["predicted_n"] == 5


def test_openai_auth(gpt: openai.OpenAI) -> None:
    with FakeOpenAI(bad_key="sk-bad") as fake:
        with (
            openai.OpenAI(base_url=fake.base_url, api_key="sk-bad", max_retries=0) as client,
            pytest.raises(openai.AuthenticationError) as excinfo,
        ):
            chat(client)
        error = excinfo.value
        assert error.status_code == 401 and error.code == "invalid_api_key" and error.type == "invalid_request_error"
        # The OpenAI SDK unwraps the envelope: exc.body is the inner "error" object.
        assert isinstance(error.body, dict) and set(error.body) == {"message", "type", "param", "code"}
        response = raw_post(fake.base_url + "/chat/completions", {"model": "m", "messages": USER_HI}, {})
        assert response.status_code == 401 and response.json()["error"]["code"] is None
    with FakeOpenAI(require_key=False) as fake:
        response = raw_post(fake.base_url + "/chat/completions", {"model": "m", "messages": USER_HI}, {})
        assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "ok"


def test_openai_errors_and_retry_after(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    fake_openai.error(429, headers={"retry-after": "3"})
    with pytest.raises(openai.RateLimitError) as excinfo:
        chat(gpt)
    assert excinfo.value.response.headers["retry-after"] == "3"
    assert excinfo.value.code == "rate_limit_exceeded" and excinfo.value.request_id is not None
    fake_openai.error(500).error(503).error(400, "bad thing", param="messages")
    for expected in (openai.InternalServerError, openai.InternalServerError, openai.BadRequestError):
        with pytest.raises(expected):
            chat(gpt)
    with pytest.raises(openai.BadRequestError, match="streaming is not supported"):
        chat(gpt, stream=True)


def test_openai_malformed_body_timeout_and_disconnect(fake_openai: FakeOpenAI, gpt: openai.OpenAI) -> None:
    fake_openai.raw("{truncated")
    with pytest.raises(json.JSONDecodeError):
        chat(gpt)
    fake_openai.raw("plain text", content_type="text/plain")
    assert chat(gpt) == "plain text"
    fake_openai.delay(60)  # the server's stop wakes it
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        chat(gpt, timeout=0.2)
    assert time.monotonic() - started < 30  # the client's timeout, not the answer's delay
    fake_openai.disconnect()
    with pytest.raises(openai.APIConnectionError):
        chat(gpt)
