"""The Anthropic Messages API through the official `anthropic` SDK.

Prompt caching: the stable prefix is marked with `cache_control` breakpoints — the tool definitions,
the shared context that parallel agents all receive, the agent's system prompt, and the newest
message (so each turn of the tool loop reads the earlier turns from cache). That is four
breakpoints, the API's maximum. Server-side blocks (web search) are kept and sent back verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autodev.models import (
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    ProviderPart,
    TextPart,
    ToolCall,
    ToolResultPart,
    Usage,
)
from autodev.models.adapters.sdk_errors import malformed, to_provider_error

try:
    import anthropic
except ImportError:  # pragma: no cover - the SDK is a dependency; this guards broken installs
    anthropic = None  # type: ignore[assignment]

CACHE = {"type": "ephemeral"}
WEB_SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
MAX_PAUSE_CONTINUATIONS = 3
FAILING_STOPS = {
    "refusal": "the model refused to answer",
    "model_context_window_exceeded": "the conversation exceeded the model's context window",
}


def _user_blocks(message: Message) -> list[dict[str, Any]]:
    results = [
        {"type": "tool_result", "tool_use_id": p.tool_call_id, "content": p.content, "is_error": p.is_error}
        for p in message.parts
        if isinstance(p, ToolResultPart)
    ]  # tool results must open the message
    texts = [{"type": "text", "text": p.text} for p in message.parts if isinstance(p, TextPart) and p.text]
    return results + texts


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ProviderPart) and part.provider == "anthropic":
            blocks.append(dict(part.data))
        elif isinstance(part, TextPart) and part.text:
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.input)})
    return blocks


def build_params(request: ModelRequest, model: str) -> dict[str, Any]:
    """The Messages API request body for `request` (pure, so tests can inspect it)."""
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        blocks = _user_blocks(message) if message.role == "user" else _assistant_blocks(message)
        if blocks:
            messages.append({"role": message.role, "content": blocks})
    if messages:
        newest: list[dict[str, Any]] = messages[-1]["content"]
        newest[-1] = {**newest[-1], "cache_control": CACHE}
    tools: list[dict[str, Any]] = [
        {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)} for t in request.tools
    ]
    if request.web_search:
        tools.append(dict(WEB_SEARCH_TOOL))
    if tools:
        tools[-1] = {**tools[-1], "cache_control": CACHE}
    system = []
    if request.context:
        system.append({"type": "text", "text": request.context, "cache_control": CACHE})
    if request.system:
        system.append({"type": "text", "text": request.system, "cache_control": CACHE})
    params: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens, "messages": messages}
    if system:
        params["system"] = system
    if tools:
        params["tools"] = tools
    return params


def _usage(raw: Any) -> Usage:
    return Usage(
        input_tokens=int(getattr(raw, "input_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "output_tokens", 0) or 0),
        cache_read_tokens=int(getattr(raw, "cache_read_input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(raw, "cache_creation_input_tokens", 0) or 0),
    )


def _dump(block: Any) -> dict[str, Any]:
    data: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    return data


@dataclass
class AnthropicModel:
    client: Any  # anthropic.AsyncAnthropic
    model_id: str
    provider: str = "anthropic"
    extra_params: Mapping[str, Any] = field(default_factory=dict)

    async def _create(self, params: dict[str, Any]) -> Any:
        try:
            return await self.client.messages.create(**params, **self.extra_params)
        except Exception as exc:
            error = to_provider_error(exc, anthropic, "anthropic")
            if error is None:
                raise
            raise error from exc

    async def complete(self, request: ModelRequest) -> ModelResponse:
        params = build_params(request, self.model_id)
        usage, texts, calls, kept = Usage(), [], [], []
        for _ in range(MAX_PAUSE_CONTINUATIONS + 1):
            reply = await self._create(params)
            if not isinstance(getattr(reply, "content", None), list) or getattr(reply, "usage", None) is None:
                raise malformed("anthropic", f"not a message ({type(reply).__name__})")
            usage = usage + _usage(reply.usage)
            content = []
            for block in reply.content:
                kind = getattr(block, "type", None)
                if kind == "text":
                    texts.append(block.text)
                    content.append({"type": "text", "text": block.text})
                elif kind == "tool_use":
                    calls.append(ToolCall(block.id, block.name, dict(block.input or {})))
                    content.append(_dump(block))
                elif kind in ("server_tool_use", "web_search_tool_result"):
                    kept.append(ProviderPart("anthropic", _dump(block)))
                    content.append(_dump(block))
                # other block types (thinking, future ones) are ignored
            stop = reply.stop_reason or "end_turn"
            if stop != "pause_turn":
                break
            # a long server-side turn was paused: send it back as-is to let the model continue
            params = {**params, "messages": [*params["messages"], {"role": "assistant", "content": content}]}
        if stop == "pause_turn":
            raise ModelError(f"the model kept pausing its turn after {MAX_PAUSE_CONTINUATIONS} continuations")
        if stop in FAILING_STOPS:
            raise ModelError(f"{FAILING_STOPS[stop]} ({self.model_id}, stop_reason={stop})")
        return ModelResponse(
            text="".join(texts),
            tool_calls=tuple(calls),
            usage=usage,
            model=str(reply.model or self.model_id),
            stop_reason=stop,
            provider_parts=tuple(kept),
        )


@dataclass
class AnthropicProvider:
    """One SDK client for the run; a `Model` per model id."""

    api_key: str | None = None
    base_url: str | None = None
    timeout_s: float = 600.0
    name: str = "anthropic"
    web_search: bool = True
    _client: Any = None

    def __post_init__(self) -> None:
        if anthropic is None:  # pragma: no cover
            raise ModelError("the anthropic SDK is not installed: pip install anthropic")
        self._client = anthropic.AsyncAnthropic(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
        )

    def model(self, model_id: str) -> AnthropicModel:
        return AnthropicModel(self._client, model_id)

    async def aclose(self) -> None:
        """Close the SDK's connection pool in the event loop that used it."""
        await self._client.close()
