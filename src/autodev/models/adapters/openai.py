"""OpenAI Chat Completions through the official `openai` SDK — also Ollama, vLLM, llama.cpp, LM Studio.

Quirks handled here rather than in callers: tool arguments arrive as a JSON *string* that may be
invalid (the call is returned with `input_error`, so the model is told and can retry; the string goes
back in the conversation as the model wrote it, see `_arguments`); usage counts
cached tokens inside `prompt_tokens` (normalised so `input_tokens` excludes them, as in Anthropic's
convention); some local servers report no usage at all (counted offline and marked estimated).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import anyio

from autodev.models import Message, ModelError, ModelRequest, ModelResponse, TextPart, ToolCall, ToolResultPart, Usage
from autodev.models.adapters.sdk_errors import malformed, to_provider_error
from autodev.models.server_info import LearntWindow, learn_window
from autodev.models.sizing import request_tokens

try:
    import openai
except ImportError:  # pragma: no cover - the SDK is a dependency; this guards broken installs
    openai = None  # type: ignore[assignment]

SERVER_QUEUE_MIN_S = 0.05
LOCAL_KEY = "not-needed"  # local servers ignore the key, but the SDK insists on one


def _messages(request: ModelRequest, official_api: bool) -> list[dict[str, Any]]:
    system = "\n\n".join(part for part in (request.context, request.system) if part)
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in request.messages:
        out.extend(_user(message) if message.role == "user" else _assistant(message, official_api))
    return out


def _user(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": p.tool_call_id, "content": p.content}
        for p in message.parts
        if isinstance(p, ToolResultPart)
    ]
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    if text:
        out.append({"role": "user", "content": text})
    return out


def _assistant(message: Message, official_api: bool) -> list[dict[str, Any]]:
    calls = [p for p in message.parts if isinstance(p, ToolCall)]
    entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if calls:
        entry["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _arguments(c, official_api)}}
            for c in calls
        ]
    return [entry]


def _arguments(call: ToolCall, official_api: bool) -> str:
    """The arguments string the model sent, verbatim: what it said, and the same bytes for prefix caching.

    Except to a local server when the string is not JSON: llama.cpp's server parses the arguments in the
    history and answers 500 when one does not parse (ggml-org/llama.cpp#25510), on every later request, so
    retrying could not help. There the parsed input stands in; the tool's error result quotes the original."""
    raw = call.raw_arguments
    if raw is not None and (official_api or _is_json(raw)):
        return raw
    return json.dumps(dict(call.input))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def build_params(request: ModelRequest, model: str, *, official_api: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model, "messages": _messages(request, official_api)}
    # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens); local servers
    # know max_tokens.
    params["max_completion_tokens" if official_api else "max_tokens"] = request.max_tokens
    if request.tools:
        params["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": dict(t.input_schema)}}
            for t in request.tools
        ]  # fmt: skip
        # sent explicitly: llama-cpp-python's function-calling chat formats drop the tools without it, and
        # every agent then "succeeds" in prose (issue 20)
        params["tool_choice"] = "auto"
    return params


def parse_arguments(raw: str | None) -> tuple[dict[str, Any], str | None]:
    if raw is None or raw.strip() == "":
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"the arguments were not valid JSON ({exc.msg} at position {exc.pos}): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, f"the arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0


def _usage(raw: Any, timings: Any = None, tokens_cached: Any = None) -> Usage | None:
    """The reply's usage, input excluding what the server read from its prompt cache.

    OpenAI counts cached tokens inside `prompt_tokens` and names them in `prompt_tokens_details`. llama.cpp's
    server says it in its `timings` instead (`prompt_n` tokens processed, `cache_n` read from the slot's
    cache; `tokens_cached` on its native endpoint) and, depending on its version, counts only the processed
    ones in `prompt_tokens`: a prompt mostly read from cache then showed as "1 in". The timings win there."""
    timing = timings if isinstance(timings, dict) else {}
    cache_n, prompt_n = _count(timing.get("cache_n")) or _count(tokens_cached), _count(timing.get("prompt_n"))
    if raw is None and not timing:
        return None
    prompt = _count(getattr(raw, "prompt_tokens", 0))
    details = getattr(raw, "prompt_tokens_details", None)
    cached = _count(getattr(details, "cached_tokens", 0)) if details is not None else 0
    output = _count(getattr(raw, "completion_tokens", 0)) or _count(timing.get("predicted_n"))
    if not cached and cache_n:
        processed = prompt_n or max(0, prompt - cache_n)
        return Usage(input_tokens=processed, output_tokens=output, cache_read_tokens=cache_n)
    if raw is None and not prompt_n:
        return None
    return Usage(input_tokens=max(0, (prompt or prompt_n) - cached), output_tokens=output, cache_read_tokens=cached)


def _server_queue(timings: Any, elapsed_s: float) -> float:
    """Seconds a request waited inside the server for a free slot: llama.cpp's `timings` say how long the
    model worked on it (prompt and generation); the rest of the round trip was spent queued."""
    if not isinstance(timings, dict):
        return 0.0
    worked_ms = sum(v for k in ("prompt_ms", "predicted_ms") if isinstance(v := timings.get(k), int | float))
    if worked_ms <= 0:
        return 0.0
    queued = elapsed_s - worked_ms / 1000
    return queued if queued >= SERVER_QUEUE_MIN_S else 0.0  # below: HTTP and JSON, not a queue


@dataclass
class OpenAIModel:
    client: Any  # openai.AsyncOpenAI
    model_id: str
    official_api: bool
    provider: str = "openai"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        params = build_params(request, self.model_id, official_api=self.official_api)
        began = time.perf_counter()
        try:
            reply = await self.client.chat.completions.create(**params)
        except Exception as exc:
            error = to_provider_error(exc, openai, "openai")
            if error is None:
                raise
            raise error from exc
        if not getattr(reply, "choices", None):
            raise malformed("openai", f"no choices in {type(reply).__name__} reply")
        choice = reply.choices[0]
        message = choice.message
        calls = []
        for raw in message.tool_calls or []:
            function = getattr(raw, "function", None)
            if function is None:
                continue
            arguments, problem = parse_arguments(function.arguments)
            calls.append(
                ToolCall(raw.id, function.name, arguments, input_error=problem, raw_arguments=function.arguments)
            )
        finish = choice.finish_reason or "stop"
        if finish == "content_filter":
            raise ModelError(f"the provider's content filter stopped the reply ({self.model_id})")
        text = message.content or ""
        timings = getattr(reply, "timings", None)  # llama.cpp's server adds these to the OpenAI shape
        usage = _usage(getattr(reply, "usage", None), timings, getattr(reply, "tokens_cached", None))
        estimated = usage is None
        if usage is None:
            usage = Usage(input_tokens=request_tokens(request), output_tokens=max(1, len(text) // 4))
        return ModelResponse(
            text=text,
            tool_calls=tuple(calls),
            usage=usage,
            model=str(getattr(reply, "model", None) or self.model_id),
            stop_reason={"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}.get(finish, finish),
            usage_estimated=estimated,
            queued_s=_server_queue(timings, time.perf_counter() - began),
        )


@dataclass
class OpenAIProvider:
    api_key: str | None = None
    base_url: str | None = None
    timeout_s: float = 600.0
    name: str = "openai"
    web_search: bool = False
    _client: Any = None

    def __post_init__(self) -> None:
        if openai is None:  # pragma: no cover
            raise ModelError("the openai SDK is not installed: pip install openai")
        self._client = openai.AsyncOpenAI(
            api_key=self.api_key or LOCAL_KEY, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
        )

    @property
    def official_api(self) -> bool:
        return self.base_url is None or "api.openai.com" in self.base_url

    def model(self, model_id: str) -> OpenAIModel:
        return OpenAIModel(self._client, model_id, self.official_api)

    async def context_window(self, model_id: str) -> LearntWindow | None:
        """The window a local server gives `model_id`, as it says (`server_info`); None on OpenAI's own
        API (the price table knows those) or when the server does not say."""
        if self.official_api or self.base_url is None:
            return None
        base_url = self.base_url
        return await anyio.to_thread.run_sync(lambda: learn_window("openai", base_url, model_id, self.api_key))

    async def aclose(self) -> None:
        """Close the SDK's connection pool in the event loop that used it."""
        await self._client.close()
