"""How big a request is before any provider has counted it: for rate budgets, context-window checks
and the fakes' usage. An offline estimate (4 characters a token), deliberately cheap: it runs before
every call, and the provider's own count replaces it as soon as a reply arrives."""

from __future__ import annotations

import json

from autodev.core.tokens import CHARS_PER_TOKEN
from autodev.models import ModelRequest, TextPart, ToolCall, ToolResultPart


def request_tokens(request: ModelRequest) -> int:
    """Offline estimate of a request's input, for rate budgeting and context-window checks."""
    size = len(request.system) + len(request.context)
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, TextPart):
                size += len(part.text)
            elif isinstance(part, ToolResultPart):
                size += len(part.content)
            elif isinstance(part, ToolCall):
                size += len(json.dumps(dict(part.input)))
    size += sum(len(json.dumps(dict(t.input_schema))) + len(t.description) for t in request.tools)
    return -(-size // CHARS_PER_TOKEN)


def estimated_tokens(request: ModelRequest) -> int:
    """What a request will count against a tokens-per-minute limit before its usage is known:
    its size, plus a quarter of the output it may produce."""
    return request_tokens(request) + request.max_tokens // 4
