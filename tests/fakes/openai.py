"""`FakeOpenAI`: a local OpenAI-compatible Chat Completions API (`POST /v1/chat/completions`, non-streaming).

`fake.base_url` already ends in `/v1` (like `OPENAI_BASE_URL`): `openai.OpenAI(base_url=fake.base_url, api_key="k")`.
Usage is computed offline: `prompt_tokens` = ceil(chars / 4) of the canonical JSON of `messages` (+ `tools`),
`completion_tokens` likewise for the reply message, `cached_tokens` 0 unless a scripted reply says otherwise.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
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
    count_tokens,
    json_response,
)

__all__ = ["ERROR_TYPES", "LLAMA_CPP_TIMINGS", "Delay", "Disconnect", "Error", "FakeOpenAI", "Raw", "Reply", "ToolCall"]

COMPLETIONS_PATH = "/v1/chat/completions"
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})

ERROR_TYPES: Mapping[int, tuple[str, str | None]] = {  # status -> (type, code)
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}

DEFAULT_MESSAGES: Mapping[int, str] = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to access this resource.",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}

# What llama.cpp's server adds to a completion; pass as `Reply(extra={"timings": LLAMA_CPP_TIMINGS})`.
LLAMA_CPP_TIMINGS: Mapping[str, Any] = {
    "prompt_n": 12,
    "prompt_ms": 35.2,
    "prompt_per_token_ms": 2.93,
    "prompt_per_second": 340.9,
    "predicted_n": 5,
    "predicted_ms": 80.1,
    "predicted_per_token_ms": 16.02,
    "predicted_per_second": 62.42,
}


OPENAI_MODELS = ("gpt-5-nano", "gpt-5-mini", "gpt-5")  # what `GET /v1/models` lists unless told otherwise


class FakeOpenAI(FakeServer):
    """Fake OpenAI Chat Completions API.

    Keyword arguments (besides `FakeServer`'s `default`, `faults`, `fault_rate`, `fault` (default 500 server_error),
    `seed`, `validate`, `responder`):
    - `require_key` (True): demand `Authorization: Bearer <key>`; False = a local server that checks nothing.
    - `api_key`: the only key accepted (None: any non-empty key); `bad_key`: a key answered with 401.
    """

    default_fault: ClassVar[Scripted] = Error(500)
    fixture_name: ClassVar[str] = "fake_openai"
    base_path: ClassVar[str] = "/v1"
    overloaded_status: ClassVar[int] = 503
    cut_off_stop_reason: ClassVar[str] = "length"
    tool_id_prefix: ClassVar[str] = "call"
    malformed_body: ClassVar[str] = '{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "me'

    def __init__(
        self,
        *,
        require_key: bool = True,
        api_key: str | None = None,
        bad_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.serve_models(*OPENAI_MODELS)
        self.require_key = require_key
        self.api_key = api_key
        self.bad_key = bad_key

    def _route(self, method: str, path: str) -> bool:
        return method == "POST" and path.rstrip("/") == COMPLETIONS_PATH

    def serve_models(self, *models: str | Mapping[str, Any]) -> FakeOpenAI:
        """`GET /v1/models` lists these: ids, or whole entries (vLLM's `max_model_len`, LM Studio's fields)."""
        entries = [
            {"id": m, "object": "model", "created": 1733200000, "owned_by": "fake"} if isinstance(m, str) else dict(m)
            for m in models
        ]
        self.metadata[("GET", "/v1/models")] = {"object": "list", "data": entries}
        return self

    def _authenticate(self, request: RecordedRequest) -> Error | None:
        if not self.require_key:
            return None
        authorization = request.header("authorization") or ""
        key = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        if not key:
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header using "
                "Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
            return Error(401, message, body={"error": error})
        if key == self.bad_key or (self.api_key is not None and key != self.api_key):
            return Error(401, f"Incorrect API key provided: {key[:3]}***.", code="invalid_api_key")
        return None

    def _validate(self, request: RecordedRequest) -> None:
        body: dict[str, Any] = request.body
        if body.get("stream"):
            raise _invalid("streaming is not supported by this fake server; send a non-streaming request", "stream")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise _invalid("you must provide a model parameter", "model")
        _validate_tools(body.get("tools"))
        _validate_messages(body.get("messages"))

    def _offered_tools(self, request: RecordedRequest) -> list[tuple[str, Mapping[str, Any]]]:
        functions = [t.get("function") or {} for t in request.body.get("tools") or []]
        return [(f["name"], f.get("parameters") or {}) for f in functions if f.get("name")]

    def _invalid_call(self, name: str, schema: Mapping[str, Any], rng: random.Random) -> ToolCall:
        """Half the time arguments of the wrong types; else an arguments string cut short, not JSON at all."""
        if rng.random() < 0.5:
            return super()._invalid_call(name, schema, rng)
        names = list(schema.get("required") or ()) or ["path"]
        cut_short = json.dumps({n: "calc/__init__.py" for n in names})[:-8]
        return ToolCall(name, raw_arguments=cut_short, id=self._fault_call_id())

    def _render_reply(self, request: RecordedRequest, reply: Reply) -> HttpResponse:
        body: dict[str, Any] = request.body
        n = self._next_id()
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_fake{n:06d}{index:02d}",
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.raw_arguments
                        if call.raw_arguments is not None
                        else json.dumps(dict(call.input)),
                    },
                }
                for index, call in enumerate(reply.tool_calls)
            ]
        finish_reason = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake{n:012d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body.get("model"),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "system_fingerprint": "fp_fake",
        }
        if not reply.omit_usage:
            payload["usage"] = _usage(body, message, reply.usage or {})
        payload.update(reply.extra)
        headers = {
            "x-request-id": f"req_fake{n:016d}",
            "openai-processing-ms": "1",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-limit-tokens": "2000000",
            "x-ratelimit-remaining-tokens": "1999000",
            "x-ratelimit-reset-tokens": "30ms",
            **reply.headers,
        }
        return json_response(200, payload, headers)

    def _render_error(self, error: Error) -> HttpResponse:
        payload = error.body
        if payload is None:
            default_type, default_code = ERROR_TYPES.get(
                error.status, ("server_error" if error.status >= 500 else "invalid_request_error", None)
            )
            payload = {
                "error": {
                    "message": error.message or DEFAULT_MESSAGES.get(error.status, f"Error {error.status}"),
                    "type": error.type or default_type,
                    "param": error.param,
                    "code": error.code if error.code is not None else default_code,
                }
            }
        headers = {"x-request-id": f"req_fake{self._next_id():016d}", **error.headers}
        return json_response(error.status, payload, headers)


def _usage(body: Mapping[str, Any], message: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    prompt = count_tokens(body.get("messages")) + (count_tokens(body["tools"]) if body.get("tools") else 0)
    completion = count_tokens({k: v for k, v in message.items() if v is not None})
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    override = dict(override)
    if "cached_tokens" in override:
        cached = override.pop("cached_tokens")
        usage["prompt_tokens_details"] = {**usage["prompt_tokens_details"], "cached_tokens": cached}
    usage.update(override)
    if "total_tokens" not in override:
        usage["total_tokens"] = int(usage["prompt_tokens"]) + int(usage["completion_tokens"])
    return usage


def _invalid(message: str, param: str | None = None) -> RequestInvalid:
    return RequestInvalid(Error(400, message, type="invalid_request_error", param=param))


def _validate_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise _invalid("Invalid type for 'tools': expected an array.", "tools")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise _invalid(f"Missing required parameter: 'tools[{index}].function'.", f"tools[{index}].function")
        if not isinstance(function.get("name"), str) or not function["name"]:
            where = f"tools[{index}].function.name"
            raise _invalid(f"Missing required parameter: '{where}'.", where)


def _validate_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise _invalid("Missing required parameter: 'messages'.", "messages")
    pending: list[str] = []  # tool_call ids of the last assistant message still waiting for a tool message
    pending_from = -1
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise _invalid(f"Invalid value for 'messages[{index}].role'.", f"messages.[{index}].role")
        role = message["role"]
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise _invalid(
                    f"Missing required parameter: 'messages[{index}].tool_call_id'.", f"messages.[{index}].tool_call_id"
                )
            if call_id not in pending:
                raise _invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                    "'tool_calls'.",
                    f"messages.[{index}].role",
                )
            pending.remove(call_id)
            continue
        if pending:
            raise _invalid(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
                f"messages.[{pending_from}].role",
            )
        pending = []
        if role == "assistant" and message.get("tool_calls"):
            calls = message["tool_calls"]
            if not isinstance(calls, list):
                raise _invalid(f"Invalid type for 'messages[{index}].tool_calls'.", f"messages.[{index}].tool_calls")
            for position, call in enumerate(calls):
                where = f"messages[{index}].tool_calls[{position}]"
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not isinstance(function, dict):
                    raise _invalid(f"Missing required parameter: '{where}.id'.", where)
                if not isinstance(function.get("name"), str) or not isinstance(function.get("arguments"), str):
                    raise _invalid(
                        f"Invalid type for '{where}.function.arguments': expected a string.", f"{where}.function"
                    )
                pending.append(call["id"])
            pending_from = index
        elif "content" not in message and role != "assistant":
            raise _invalid(f"Missing required parameter: 'messages[{index}].content'.", f"messages.[{index}].content")
    if pending:
        raise _invalid(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
            f"messages.[{pending_from}].role",
        )
