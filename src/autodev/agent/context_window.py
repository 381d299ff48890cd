"""The model's context window, where it is known (a local server says it): what a prompt may take, how
long a reply may be, and whether a "length" stop was the window's rather than the output limit's."""

from __future__ import annotations

import dataclasses

from autodev.models import ModelRequest, ModelResponse
from autodev.models.sizing import request_tokens

WINDOW_STOP_MARK = "[reply stopped after {output:,} tokens: the model's context window of {window:,} is full]"
WINDOW_FULL_SHARE = 0.98  # prompt + reply at this share of the window: a "length" stop was the window's
MIN_REPLY_TOKENS = 1024  # max_tokens is lowered to fit the context window, never below this


def window_problem(window: int | None, model_id: str, request: ModelRequest) -> str | None:
    """Refuse a request that cannot fit, before it is sent (and paid for)."""
    if window is None:
        return None
    needed = request_tokens(request)
    if needed + request.max_tokens <= window:
        return None
    return (
        f"the request needs about {needed:,} input tokens plus {request.max_tokens:,} for the reply, "
        f"more than {model_id}'s context window of {window:,} tokens"
    )


def prompt_budget(window: int | None, context_tokens: int) -> int:
    """The tokens the prompt may take: the agent's working-context budget, and within a known context window
    room for a reply, so a local model's small window compacts old tool results instead of failing the agent."""
    if window is None:
        return context_tokens
    return max(1, min(context_tokens, window - MIN_REPLY_TOKENS))


def fit_reply(window: int | None, request: ModelRequest) -> ModelRequest:
    """`max_tokens` lowered so prompt and reply fit the context window (a local model's window is often
    no larger than the default max_tokens); left as it is when even MIN_REPLY_TOKENS would not fit."""
    if window is None:
        return request
    room = window - request_tokens(request)
    if request.max_tokens <= room or room < MIN_REPLY_TOKENS:
        return request
    return dataclasses.replace(request, max_tokens=room)


def window_full_stop(window: int | None, response: ModelResponse) -> bool:
    """A "length" stop with prompt and reply filling the known context window: not the output limit.

    Asking again for the whole answer would overflow the window once more (a 400, and a failed run),
    so the partial answer is taken, marked as stopped by the window.
    """
    if window is None or response.usage_estimated:
        return False
    used = response.usage.context_tokens + response.usage.output_tokens
    return used >= window * WINDOW_FULL_SHARE
