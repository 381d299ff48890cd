"""ScriptedModel: replays replies from a script file, for tests, the demo and benchmarks.

A script is YAML (or JSON) with one queue of replies per agent:

    version: 1
    agents:
      researcher-local:
        - delay: 0.5                      # seconds before the reply arrives (optional)
          text: "Looking for the helpers"  # optional
          tool_calls:                      # optional; a reply with none ends the agent's turn
            - {name: Grep, input: {pattern: "def slug"}}
          usage: {input_tokens: 900, output_tokens: 40}   # optional
        - text: "Final handoff ..."

An agent invocation consumes replies until one without tool calls; a later invocation of the same
agent (a test-gate retry, a remediation cycle) continues with the next reply. A reply may also be
`error: "message"` to make that request fail. Usage not given in the script is counted from the
characters of the request and reply (about four per token), so metrics stay non-zero and plausible.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autodev.core.errors import UserError
from autodev.models import Message, ModelError, ModelRequest, ModelResponse, ModelWrapper, ToolCall, Usage
from autodev.models.sizing import request_tokens

SCRIPT_HINT = "a script is {version: 1, agents: {AGENT: [{text, tool_calls, usage, delay, error}, ...]}}"


class ScriptedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptedUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class ScriptedReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    usage: ScriptedUsage | None = None
    delay: float = Field(default=0.0, ge=0)
    error: str | None = None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    web_search: bool = False  # simulate a provider with server-side web search
    agents: dict[str, list[ScriptedReply]]

    @classmethod
    def load(cls, path: Path) -> Script:
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read model script {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            line_no = exc.object[: exc.start].count(b"\n") + 1
            raise UserError(
                f"{path}:{line_no}: not a valid model script: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})",
                hint="save the script as UTF-8",
            ) from None
        try:
            data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].lower()
            raise UserError(f"{path}: not a valid model script: {where}: {problem}{more}", hint=SCRIPT_HINT) from exc
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise UserError(f"{path}: not a valid model script: {exc}") from exc
        except RecursionError:
            raise UserError(f"{path}: not a valid model script: nested too deeply to read", hint=SCRIPT_HINT) from None


class ScriptQueue:
    """The replies of a script, consumed per agent; shared by every model of one provider."""

    def __init__(self, script: Script) -> None:
        self._queues = {agent: deque(replies) for agent, replies in script.agents.items()}
        self._counter = 0

    def next_reply(self, agent: str) -> ScriptedReply:
        queue = self._queues.get(agent)
        if not queue:
            raise ModelError(f"the model script has no (more) replies for agent {agent!r}")
        return queue.popleft()

    def skip_runs(self, ended: Mapping[str, int]) -> None:
        """Drop the replies of each agent's first `ended[agent]` invocations, which a resumed run won't repeat.

        An invocation ends with a reply that has no tool calls, or with an error reply.
        """
        for agent, count in ended.items():
            queue = self._queues.get(agent)
            for _ in range(count):
                while queue:
                    reply = queue.popleft()
                    if reply.error or not reply.tool_calls:
                        break

    def next_id(self) -> str:
        self._counter += 1
        return f"call_{self._counter:04d}"


def estimated_usage(request: ModelRequest, text: str, tool_inputs: list[Mapping[str, Any]]) -> Usage:
    """Usage for a model that reports none: about four characters per token, never zero."""
    out_chars = len(text) + sum(len(json.dumps(dict(i))) for i in tool_inputs)
    return Usage(input_tokens=max(1, request_tokens(request)), output_tokens=max(1, (out_chars + 3) // 4))


@dataclass
class ScriptedModel:
    """A `Model` that answers from a script queue. Behaves like a provider: reports usage and model."""

    queue: ScriptQueue
    model_id: str
    provider: str = "scripted"
    delay_scale: float = 1.0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        reply = self.queue.next_reply(request.agent)
        if reply.delay and self.delay_scale > 0:
            await anyio.sleep(reply.delay * self.delay_scale)
        if reply.error:
            raise ModelError(reply.error)
        calls = tuple(ToolCall(id=c.id or self.queue.next_id(), name=c.name, input=c.input) for c in reply.tool_calls)
        if reply.usage is not None:
            usage = Usage(**reply.usage.model_dump())
        else:
            usage = estimated_usage(request, reply.text, [c.input for c in reply.tool_calls])
        return ModelResponse(
            text=reply.text,
            tool_calls=calls,
            usage=usage,
            model=self.model_id,
            stop_reason="tool_use" if calls else "end_turn",
        )


class ScriptedProvider:
    """Serves every model id from one script, so all tiers share one reply queue per agent."""

    name = "scripted"

    def __init__(self, script: Script | Mapping[str, Any], *, delay_scale: float = 1.0) -> None:
        if not isinstance(script, Script):
            script = Script.model_validate(script)
        self.queue = ScriptQueue(script)
        self.web_search = script.web_search
        self.delay_scale = delay_scale

    @classmethod
    def from_file(cls, path: Path, *, delay_scale: float = 1.0) -> ScriptedProvider:
        return cls(Script.load(path), delay_scale=delay_scale)

    def model(self, model_id: str) -> ScriptedModel:
        return ScriptedModel(self.queue, model_id, delay_scale=self.delay_scale)


__all__ = ["Message", "RecordingModel", "Script", "ScriptedModel", "ScriptedProvider"]


@dataclass
class RecordingModel(ModelWrapper):
    """Wraps any `Model` and keeps every request it was sent: for tests that check what a model saw."""

    requests: list[ModelRequest] = field(default_factory=list)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return await self.inner.complete(request)
