"""Models that need no provider: the oracle and the null model of `eval validate`, and their base.

A suite is only worth running if its tasks are fair: the reference solution must pass the hidden
tests (the oracle proves it through the real pipeline, writing the files with the implementer's own
Write tool calls), and the untouched project must fail them (the null model changes nothing). A
`PolicyModel` answers each request with a function of that request, so it never runs out of replies
however often the pipeline re-runs an agent; the tests build their saboteurs on it too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autodev.agent.specs import load_agents
from autodev.models import Model, ModelRequest, ModelResponse, ToolCall
from autodev.models.fakes.scripted import estimated_usage

IMPLEMENTER = "implementer"
VERDICT_AGENTS = frozenset({"reviewer", "security-auditor"})
APPROVE = "The change does what the request asks.\n\nVERDICT: APPROVE"


@dataclass(frozen=True)
class Reply:
    text: str = ""
    tool_calls: tuple[tuple[str, Mapping[str, Any]], ...] = ()


Responder = Callable[[ModelRequest], Reply]


def is_first_turn(request: ModelRequest) -> bool:
    """True on an agent invocation's first request (its task is the only message so far)."""
    return len(request.messages) == 1


@dataclass
class PolicyModel:
    """A `Model` whose reply is `respond(request)`. Usage is counted like the scripted model's."""

    respond: Responder
    model_id: str
    provider: str = "eval"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def complete(self, request: ModelRequest) -> ModelResponse:
        reply = self.respond(request)
        calls = tuple(ToolCall(id=f"call_{next(self._ids):04d}", name=n, input=dict(i)) for n, i in reply.tool_calls)
        usage = estimated_usage(request, reply.text, [i for _, i in reply.tool_calls])
        return ModelResponse(
            text=reply.text,
            tool_calls=calls,
            usage=usage,
            model=self.model_id,
            stop_reason="tool_use" if calls else "end_turn",
        )


class PolicyProvider:
    """Serves every model id with the same responder."""

    web_search = False

    def __init__(self, respond: Responder, name: str = "eval") -> None:
        self.respond = respond
        self.name = name

    def model(self, model_id: str) -> Model:
        return PolicyModel(self.respond, model_id, self.name)


def handoff(agent: str, what: str) -> Reply:
    """A final reply with the sections the bundled agent's file declares (`handoff_sections`), so the
    pipeline's section check is satisfied; a verdict agent's sections are label lines before its verdict."""
    sections = _SECTIONS.get(agent, ())
    if agent in VERDICT_AGENTS:
        labels = "".join(f"{name}: {what}\n" for name in sections)
        return Reply(labels + APPROVE)
    return Reply("\n".join(f"## {name}\n{what}" for name in sections) or f"## {agent}\n{what}")


_SECTIONS = {name: spec.handoff_sections for name, spec in load_agents(None).items()}


def oracle_responder(files: Mapping[str, str]) -> Responder:
    """The implementer writes `files` (the reference solution) on every invocation; reviewers approve."""
    # Read first: Write refuses to overwrite a file the agent has not Read (a new file's Read is a harmless error)
    writes = tuple(
        call
        for path, text in sorted(files.items())
        for call in (("Read", {"file_path": path, "limit": 1}), ("Write", {"file_path": path, "content": text}))
    )

    def respond(request: ModelRequest) -> Reply:
        if request.agent == IMPLEMENTER and writes and is_first_turn(request):
            return Reply("Writing the reference solution.", writes)
        if request.agent == IMPLEMENTER:
            return handoff(IMPLEMENTER, "- Wrote the reference solution.")
        return handoff(request.agent, "Nothing to add: the oracle writes the reference solution.")

    return respond


def null_responder(request: ModelRequest) -> Reply:
    """Every agent answers at once and changes nothing; reviewers approve."""
    return handoff(request.agent, "No change.")


def oracle_provider(files: Mapping[str, str]) -> PolicyProvider:
    return PolicyProvider(oracle_responder(files), name="oracle")


def null_provider() -> PolicyProvider:
    return PolicyProvider(null_responder, name="null")
