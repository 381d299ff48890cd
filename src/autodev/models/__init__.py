"""The model seam: one small async protocol that every provider adapter implements.

Messages, tool definitions and replies are provider-neutral values; each adapter maps them to its
wire format. Cross-cutting concerns (retries, rate limits, instrumentation) wrap a `Model` rather
than living inside each adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from autodev.core.usage import Usage as Usage  # re-exported: part of the model protocol


@dataclass(frozen=True)
class TextPart:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ToolCall:
    """A model's request to run a tool. `id` ties the result back to the call.

    `input_error` is set when the provider sent arguments that are not a JSON object (OpenAI-style
    APIs send them as a string that may be invalid): the tool is not run and the model is told.
    `raw_arguments` is that string as the model wrote it, so the conversation can echo it verbatim.
    """

    id: str
    name: str
    input: Mapping[str, Any]
    input_error: str | None = None
    raw_arguments: str | None = None
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class ProviderPart:
    """A content block only its own provider understands (server tool use, search results, ...).

    Kept so it can be sent back verbatim in the next request; other adapters drop it.
    """

    provider: str
    data: Mapping[str, Any]
    kind: Literal["provider"] = "provider"


@dataclass(frozen=True)
class ToolResultPart:
    tool_call_id: str
    content: str
    is_error: bool = False
    kind: Literal["tool_result"] = "tool_result"


Part = TextPart | ToolCall | ToolResultPart | ProviderPart


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


@dataclass(frozen=True)
class ToolDefinition:
    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True)
class ModelRequest:
    """One request to a model. `agent` lets fakes and wrappers know who is asking.

    `context` is the part of the prompt that agents running side by side share (the request, the
    repository facts, the diff under review). Adapters put it first and mark it cacheable, so
    parallel agents pay the cache-read price for it. `web_search` asks for the provider's own
    server-side search, where it has one.
    """

    agent: str
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolDefinition, ...] = ()
    max_tokens: int = 8192
    context: str = ""
    web_search: bool = False


@dataclass(frozen=True)
class ModelResponse:
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    model: str  # the model that actually served the request, as the provider named it
    stop_reason: str = "end_turn"
    attempts: int = 1
    usage_estimated: bool = False  # the provider reported no usage; counted offline instead
    provider_parts: tuple[ProviderPart, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    queued_s: float = 0.0  # of the request's time, spent waiting for a provider slot (here or in the server)

    def as_message(self) -> Message:
        parts: list[Part] = list(self.provider_parts)
        if self.text:
            parts.append(TextPart(self.text))
        parts.extend(self.tool_calls)
        return Message("assistant", tuple(parts))


@runtime_checkable
class Model(Protocol):
    """A model that answers requests. Implementations subclass nothing."""

    @property
    def model_id(self) -> str: ...

    @property
    def provider(self) -> str: ...

    async def complete(self, request: ModelRequest) -> ModelResponse: ...


class ModelProvider(Protocol):
    """Makes the `Model` that serves a given model id (one per tier, usually)."""

    @property
    def name(self) -> str: ...

    @property
    def web_search(self) -> bool:
        """Whether this provider can run a server-side web search for the model."""
        ...

    def model(self, model_id: str) -> Model: ...


@dataclass
class ModelWrapper:
    """A model that answers through `inner` (adding a limit, retries, a log...): subclasses define
    `complete`; the model's identity is always the inner one's."""

    inner: Model

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def provider(self) -> str:
        return self.inner.provider


@dataclass
class ProviderWrapper:
    """A provider that serves `inner`'s models, each wrapped by `wrap`: the seam for limits, retries,
    counters and simulated latency, so each of those is only its `wrap` and its own fields."""

    inner: ModelProvider

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def web_search(self) -> bool:
        return self.inner.web_search

    def model(self, model_id: str) -> Model:
        return self.wrap(self.inner.model(model_id))

    def wrap(self, model: Model) -> Model:
        return model

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


class ModelError(Exception):
    """A request that could not be answered (after whatever retries were made)."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class ProviderError(ModelError):
    """A provider's refusal or failure, normalised across SDKs so retry policy lives in one place."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.queued_s = 0.0  # time the failed request waited for a provider slot, as on a response
        self.status = status
        self.retryable = retryable
        self.retry_after_s = retry_after_s
