"""`FakeAnthropic`: a local Anthropic Messages API (`POST /v1/messages`, non-streaming) with prompt-cache simulation.

Point the SDK at it with `anthropic.Anthropic(base_url=fake.base_url, api_key="k")` (no `/v1`: the SDK appends
`/v1/messages`).

Prompt-cache simulation (offline, deterministic):

- The prompt is a sequence of blocks in prefix order tools -> system -> messages (a string `system`/`content` counts
  as one text block). Each block costs `len(canonical_json(block without cache_control))` characters; a prefix of
  `n` characters is `ceil(n / 4)` tokens, so the whole prompt is `ceil(total_chars / 4)` tokens.
- Each block carrying `cache_control: {"type": "ephemeral"}` is a breakpoint (a top-level `cache_control` marks the
  last block); more than 4 -> 400. A prefix is identified by sha256 of the canonical JSON of
  `[model, block_1, ..., block_k]` with `cache_control` keys removed (blocks are tagged with their section,
  message index and role).
- Read: the longest breakpoint prefix (or, with `cache_lookback=N`, any of the N block boundaries before a
  breakpoint, like the real API's ~20-block lookback) stored by an earlier successful request ->
  `cache_read_input_tokens` = its tokens.
- Write: if the longest breakpoint prefix is longer than the read part and has >= `min_cache_tokens` tokens,
  `cache_creation_input_tokens` = its tokens - read tokens; every breakpoint prefix >= `min_cache_tokens` is stored.
- `input_tokens` = total - read - creation. A scripted `Reply(usage=...)` overrides any of these numbers.
- The cache lives in the server instance (shared by all clients), never expires, and is updated only by requests
  answered with a `Reply`. `fake.clear_cache()` / `fake.reset()` empty it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .server import (
    Delay,
    Disconnect,
    Error,
    FakeServer,
    HttpResponse,
    Raw,
    RecordedRequest,
    Reply,
    RequestInvalid,
    Scripted,
    ToolCall,
    canonical_json,
    count_tokens,
    json_response,
    strip_keys,
    tokens_for_chars,
)

__all__ = [
    "ERROR_TYPES",
    "CacheUsage",
    "Delay",
    "Disconnect",
    "Error",
    "FakeAnthropic",
    "PromptBlock",
    "Raw",
    "Reply",
    "ToolCall",
    "prompt_blocks",
]

MESSAGES_PATH = "/v1/messages"
MAX_BREAKPOINTS = 4
CACHE_CONTROL_KEYS = frozenset({"cache_control"})

ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

DEFAULT_MESSAGES: Mapping[str, str] = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out.",
    "overloaded_error": "Overloaded",
}

# Top-level request fields the 2026-10-21 Messages API accepts (anthropic 2.14 `MessageCreateParams`, plus a few
# feature fields older SDK versions send). Anything else is rejected like the real API ("Extra inputs are not
# permitted"); `temperature`, `top_p` and `top_k` get their own message.
KNOWN_FIELDS = frozenset(
    {
        "model", "max_tokens", "messages", "system", "tools", "tool_choice", "stream", "metadata", "stop_sequences",
        "thinking", "cache_control", "container", "diagnostics", "inference_geo", "output_config", "service_tier",
        "speed", "user_profile_id", "workspace_id", "context_management", "mcp_servers", "output_format",
    }
)  # fmt: skip
REMOVED_SAMPLING_FIELDS = ("temperature", "top_p", "top_k")
TOOL_CHOICE_TYPES = frozenset({"auto", "any", "tool", "none"})


@dataclass(frozen=True)
class PromptBlock:
    """One block of the cacheable prefix: `key` is what gets hashed, `chars` what gets counted."""

    key: Any
    chars: int
    breakpoint: bool


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _has_cache_control(block: Any) -> bool:
    return isinstance(block, dict) and block.get("cache_control") is not None


def prompt_blocks(body: Mapping[str, Any]) -> list[PromptBlock]:
    """The request's prompt in prefix order tools -> system -> messages, with breakpoints marked."""
    items: list[tuple[Any, Any]] = []  # (tag, block)
    for tool in body.get("tools") or []:
        items.append(({"section": "tools"}, tool))
    for block in _blocks(body.get("system")):
        items.append(({"section": "system"}, block))
    for index, message in enumerate(body.get("messages") or []):
        if isinstance(message, dict):
            for block in _blocks(message.get("content")):
                items.append(({"section": "messages", "message": index, "role": message.get("role")}, block))
    result: list[PromptBlock] = []
    for tag, block in items:
        clean = strip_keys(block, CACHE_CONTROL_KEYS)
        result.append(PromptBlock({**tag, "block": clean}, len(canonical_json(clean)), _has_cache_control(block)))
    if body.get("cache_control") is not None and result and not result[-1].breakpoint:
        last = result[-1]
        result[-1] = PromptBlock(last.key, last.chars, True)
    return result


class FakeAnthropic(FakeServer):
    """Fake Anthropic Messages API.

    Keyword arguments (besides `FakeServer`'s `default`, `faults`, `fault_rate`, `fault` (default 529 overloaded),
    `seed`, `validate`, `responder`):
    - `api_key`: the only key accepted (None: any non-empty key); `bad_key`: a key answered with 401.
    - `require_version`: 400 without an `anthropic-version` header, like the real API.
    - `min_cache_tokens` (1024), `cache_lookback` (0): prompt-cache simulation, see the module docstring.
    - `reject_unknown_fields`: 400 on top-level request fields the API does not know.
    """

    default_fault: ClassVar[Scripted] = Error(529)
    fixture_name: ClassVar[str] = "fake_anthropic"
    base_path: ClassVar[str] = ""
    overloaded_status: ClassVar[int] = 529
    cut_off_stop_reason: ClassVar[str] = "max_tokens"
    tool_id_prefix: ClassVar[str] = "toolu"
    malformed_body: ClassVar[str] = '{"id": "msg_fake", "type": "message", "role": "assistant", "content": [{"ty'

    def __init__(
        self,
        *,
        api_key: str | None = None,
        bad_key: str | None = None,
        require_version: bool = True,
        min_cache_tokens: int = 1024,
        cache_lookback: int = 0,
        reject_unknown_fields: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        entries = [  # what `GET /v1/models` lists: the models the tests' tiers name
            {"type": "model", "id": m, "display_name": m, "created_at": "2026-11-01T00:00:00Z"}
            for m in ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5")
        ]
        self.metadata[("GET", "/v1/models")] = {"data": entries, "has_more": False}
        self.api_key = api_key
        self.bad_key = bad_key
        self.require_version = require_version
        self.min_cache_tokens = min_cache_tokens
        self.cache_lookback = max(0, cache_lookback)
        self.reject_unknown_fields = reject_unknown_fields
        self._cache: dict[str, int] = {}
        self._answered = 0

    # ---------------------------------------------------------------- cache

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    @property
    def cached_prefixes(self) -> int:
        """How many prefixes the simulated cache holds."""
        with self._lock:
            return len(self._cache)

    def _reset_state(self) -> None:
        self._cache.clear()

    def simulate_cache(self, body: Mapping[str, Any], *, store: bool = True) -> CacheUsage:
        """The usage this request gets from the simulated cache (and, with `store`, write its prefixes)."""
        blocks = prompt_blocks(body)
        hasher = hashlib.sha256(b"[" + canonical_json(body.get("model")).encode("utf-8"))
        prefix_tokens: list[int] = []
        hashes: list[str] = []
        chars = 0
        for block in blocks:
            chars += block.chars
            prefix_tokens.append(tokens_for_chars(chars))
            hasher.update(b"," + canonical_json(block.key).encode("utf-8"))
            closed = hasher.copy()
            closed.update(b"]")
            hashes.append(closed.hexdigest())
        total = prefix_tokens[-1] if prefix_tokens else 0
        breakpoints = [i for i, block in enumerate(blocks) if block.breakpoint]
        candidates = sorted(
            {p for bp in breakpoints for p in range(max(0, bp - self.cache_lookback), bp + 1)}, reverse=True
        )
        with self._lock:
            read_at = next((p for p in candidates if hashes[p] in self._cache), None)
            read = prefix_tokens[read_at] if read_at is not None else 0
            creation = 0
            if breakpoints:
                longest = breakpoints[-1]
                if (read_at is None or longest > read_at) and prefix_tokens[longest] >= self.min_cache_tokens:
                    creation = prefix_tokens[longest] - read
            if store:
                for bp in breakpoints:
                    if prefix_tokens[bp] >= self.min_cache_tokens:
                        self._cache[hashes[bp]] = prefix_tokens[bp]
        return CacheUsage(total - read - creation, creation, read)

    # ---------------------------------------------------------------- hooks

    def _route(self, method: str, path: str) -> bool:
        return method == "POST" and path.rstrip("/") == MESSAGES_PATH

    def _authenticate(self, request: RecordedRequest) -> Error | None:
        keys = []
        if request.header("x-api-key"):
            keys.append(request.headers["x-api-key"].strip())
        authorization = request.header("authorization") or ""
        if authorization[:7].lower() == "bearer " and authorization[7:].strip():
            keys.append(authorization[7:].strip())
        if not keys:
            return Error(401, "x-api-key header is required")
        for key in keys:
            if key == self.bad_key or (self.api_key is not None and key != self.api_key):
                return Error(401, "invalid x-api-key")
        return None

    def _validate(self, request: RecordedRequest) -> None:
        body: dict[str, Any] = request.body
        if self.require_version and not request.header("anthropic-version"):
            raise _invalid("anthropic-version: header is required")
        for name in REMOVED_SAMPLING_FIELDS:
            if name in body:
                raise _invalid(f"{name}: is not supported by this API version; remove it from the request")
        if body.get("stream"):
            raise _invalid("stream: streaming is not supported by this fake server; send a non-streaming request")
        if self.reject_unknown_fields:
            unknown = sorted(set(body) - KNOWN_FIELDS)
            if unknown:
                raise _invalid(f"{unknown[0]}: Extra inputs are not permitted")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _invalid("model: Field required")
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise _invalid("max_tokens: Field required")
        if max_tokens < 0:
            raise _invalid("max_tokens: Input should be greater than or equal to 0")
        _validate_system(body.get("system"))
        _validate_tools(body.get("tools"), body.get("tool_choice"))
        _validate_messages(body.get("messages"))
        _validate_cache_control(body)

    def _offered_tools(self, request: RecordedRequest) -> list[tuple[str, Mapping[str, Any]]]:
        tools = request.body.get("tools") or []
        return [(t["name"], t["input_schema"]) for t in tools if isinstance(t.get("input_schema"), dict)]

    def _render_reply(self, request: RecordedRequest, reply: Reply) -> HttpResponse:
        body: dict[str, Any] = request.body
        n = self._next_id()
        if reply.content is not None:
            content = [dict(block) for block in reply.content]
        else:
            content = [dict(block) for block in reply.extra_blocks]
            if reply.text is not None:
                content.append({"type": "text", "text": reply.text})
            for index, call in enumerate(reply.tool_calls):
                call_id = call.id or f"toolu_fake{n:06d}{index:02d}"
                content.append({"type": "tool_use", "id": call_id, "name": call.name, "input": dict(call.input)})
        if body.get("max_tokens") == 0:  # cache pre-warming: no generation
            content = []
        stop_reason = reply.stop_reason
        if stop_reason is None:
            if body.get("max_tokens") == 0:
                stop_reason = "max_tokens"
            elif any(block.get("type") == "tool_use" for block in content):
                stop_reason = "tool_use"
            else:
                stop_reason = "end_turn"
        cache = self.simulate_cache(body)
        usage: dict[str, Any] = {
            "input_tokens": cache.input_tokens,
            "output_tokens": count_tokens(content) if content else 0,
            "cache_creation_input_tokens": cache.cache_creation_input_tokens,
            "cache_read_input_tokens": cache.cache_read_input_tokens,
        }
        usage.update(reply.usage or {})
        payload: dict[str, Any] = {
            "id": f"msg_fake{n:016d}",
            "type": "message",
            "role": "assistant",
            "model": reply.model or body.get("model"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
        }
        if not reply.omit_usage:
            payload["usage"] = usage
        payload.update(reply.extra)
        with self._lock:
            self._answered += 1
            answered = self._answered
        headers = {**self._common_headers(n), **self._ratelimit_headers(answered), **reply.headers}
        return json_response(200, payload, headers)

    def _render_error(self, error: Error) -> HttpResponse:
        error_type = (
            error.type
            or ERROR_TYPES.get(error.status)
            or ("api_error" if error.status >= 500 else "invalid_request_error")
        )
        payload = error.body
        if payload is None:
            message = error.message or DEFAULT_MESSAGES.get(error_type, "Error")
            payload = {"type": "error", "error": {"type": error_type, "message": message}}
        headers = {**self._common_headers(self._next_id()), **error.headers}
        return json_response(error.status, payload, headers)

    @staticmethod
    def _common_headers(n: int) -> dict[str, str]:
        return {"request-id": f"req_fake{n:016d}"}

    @staticmethod
    def _ratelimit_headers(answered: int) -> dict[str, str]:
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        limits = {"requests": 4000, "tokens": 2_000_000, "input-tokens": 2_000_000, "output-tokens": 400_000}
        headers: dict[str, str] = {}
        for kind, limit in limits.items():
            used = answered if kind == "requests" else 0
            headers[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{kind}-remaining"] = str(max(0, limit - used))
            headers[f"anthropic-ratelimit-{kind}-reset"] = reset
        return headers


# --------------------------------------------------------------------------------------------------------------------
# Validation (raises RequestInvalid with the real API's wording where known)


def _invalid(message: str) -> RequestInvalid:
    return RequestInvalid(Error(400, message, type="invalid_request_error"))


def _validate_text_block(block: Any, where: str) -> None:
    if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
        raise _invalid(f"{where}: expected a text block")
    if not block["text"].strip():
        raise _invalid(f"{where}: text content blocks must contain non-whitespace text")


def _validate_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise _invalid("system: Input should be a valid string or a list of text blocks")
    for index, block in enumerate(system):
        _validate_text_block(block, f"system.{index}")


def _validate_tools(tools: Any, tool_choice: Any) -> None:
    names: set[str] = set()
    if tools is not None:
        if not isinstance(tools, list):
            raise _invalid("tools: Input should be a valid list")
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"]:
                raise _invalid(f"tools.{index}.name: Field required")
            if tool.get("type") in (None, "custom") and not isinstance(tool.get("input_schema"), dict):
                raise _invalid(f"tools.{index}.custom.input_schema: Field required")
            if tool["name"] in names:
                raise _invalid("tools: Tool names must be unique.")
            names.add(tool["name"])
    if tool_choice is not None:
        if not isinstance(tool_choice, dict) or tool_choice.get("type") not in TOOL_CHOICE_TYPES:
            raise _invalid(
                "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
            )
        if tool_choice["type"] == "tool" and tool_choice.get("name") not in names:
            raise _invalid(f"tool_choice: tool '{tool_choice.get('name')}' not found in tools")


def _validate_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise _invalid("messages: Field required")
    if not messages:
        raise _invalid("messages: at least one message is required")
    pending_tool_use: list[str] = []  # tool_use ids of the previous assistant message
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise _invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if not isinstance(content, str | list):
            raise _invalid(f"messages.{index}.content: Field required")
        blocks = _blocks(content)
        is_last = index == len(messages) - 1
        if not blocks and not (is_last and message["role"] == "assistant"):
            raise _invalid(
                f"messages.{index}: all messages must have non-empty content except for the optional final "
                "assistant message"
            )
        for position, block in enumerate(blocks):
            where = f"messages.{index}.content.{position}"
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise _invalid(f"{where}.type: Field required")
            if block["type"] == "text":
                _validate_text_block(block, where)
            elif block["type"] == "tool_use":
                if message["role"] != "assistant":
                    raise _invalid(f"{where}: `tool_use` blocks can only be in `assistant` messages")
                if not isinstance(block.get("id"), str) or not isinstance(block.get("input"), dict):
                    raise _invalid(f"{where}: `tool_use` blocks need an `id` and an `input` object")
            elif block["type"] == "tool_result":
                if message["role"] != "user":
                    raise _invalid(f"{where}: `tool_result` blocks can only be in `user` messages")
                if block.get("tool_use_id") not in pending_tool_use:
                    raise _invalid(
                        f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {block.get('tool_use_id')}. "
                        "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    )
        if pending_tool_use:
            answered: set[str] = set()
            if message["role"] == "user":
                for block in blocks:
                    if block.get("type") != "tool_result":
                        break
                    answered.add(block.get("tool_use_id"))
            missing = [tool_id for tool_id in pending_tool_use if tool_id not in answered]
            if missing:
                raise _invalid(
                    f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in "
                    "the next message, and the `tool_result` blocks must come first."
                )
        pending_tool_use = [
            block["id"] for block in blocks if message["role"] == "assistant" and block.get("type") == "tool_use"
        ]
    if pending_tool_use:
        raise _invalid(
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
            f"after: {', '.join(pending_tool_use)}. Each `tool_use` block must have a corresponding `tool_result` "
            "block in the next message."
        )


def _validate_cache_control(body: Mapping[str, Any]) -> None:
    found: list[Any] = []
    for tool in body.get("tools") or []:
        if _has_cache_control(tool):
            found.append(tool["cache_control"])
    for block in _blocks(body.get("system")):
        if _has_cache_control(block):
            found.append(block["cache_control"])
    for message in body.get("messages") or []:
        for block in _blocks(message.get("content")):
            if _has_cache_control(block):
                found.append(block["cache_control"])
    count = len(found)
    if body.get("cache_control") is not None:
        found.append(body["cache_control"])
        if not any(block.breakpoint for block in prompt_blocks({**body, "cache_control": None})[-1:]):
            count += 1
    for value in found:
        if not isinstance(value, dict) or value.get("type") != "ephemeral":
            raise _invalid("cache_control.type: Input tag does not match any of the expected tags: 'ephemeral'")
        if value.get("ttl", "5m") not in ("5m", "1h"):
            raise _invalid("cache_control.ttl: Input should be '5m' or '1h'")
    if count > MAX_BREAKPOINTS:
        raise _invalid(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {count}.")
