"""The tool seam: a tool is a name, a JSON schema and an async call that returns text.

Tools never raise into the agent loop: a `ToolError` becomes an error result the model can read and
act on, so a bad path or a missed edit costs one turn, not the run.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from autodev.models import ToolDefinition
from autodev.tools.workspace import ToolError, Workspace

DEFAULT_OUTPUT_CAP = 30_000  # characters of one tool result handed to the model


@dataclass(frozen=True)
class ToolResult:
    content: str
    is_error: bool = False


@dataclass
class ToolContext:
    workspace: Workspace
    agent: str
    run_tests: Callable[[], Awaitable[str]] | None = None


class Tool(Protocol):
    @property
    def definition(self) -> ToolDefinition: ...

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str: ...


DEFAULT_CAP_HINT = "narrow the request (a line range or a path) to see them"


def cap_output(text: str, limit: int = DEFAULT_OUTPUT_CAP, hint: str = DEFAULT_CAP_HINT) -> str:
    """Keep the head and tail of an oversized result, and say what was left out and how to get it.

    Cuts move to a line boundary when one is near, so the model sees whole lines on both sides.
    """
    if len(text) <= limit:
        return text
    head_end, tail_start = limit * 2 // 3, len(text) - limit // 3
    newline = text.rfind("\n", 0, head_end)
    if newline >= head_end // 2:
        head_end = newline + 1
    newline = text.find("\n", tail_start)
    if newline != -1 and newline < tail_start + (limit // 3) // 2:
        tail_start = newline + 1
    head, tail = text[:head_end], text[tail_start:]
    omitted = len(text) - len(head) - len(tail)
    lines = text.count("\n", head_end, tail_start)
    counted = f" ({lines} lines)" if lines else ""
    marker = f"\n[... {omitted} characters omitted{counted}; {hint} ...]\n"
    return head + marker + tail


async def invoke(tool: Tool, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    try:
        text = await tool(args, ctx)
        return ToolResult(cap_output(text, hint=getattr(tool, "cap_hint", DEFAULT_CAP_HINT)))
    except ToolError as exc:
        return ToolResult(f"Error: {exc}", is_error=True)
    except (OSError, UnicodeError) as exc:  # e.g. a path under a file: the model's to fix, not a crashed run
        detail = str(exc).replace(str(ctx.workspace.root) + os.sep, "")
        return ToolResult(f"Error: {detail}", is_error=True)


def require_str(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ToolError(f"argument {key!r} is required and must be a string")
    return value


def optional_int(args: Mapping[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ToolError(f"argument {key!r} must be a non-negative whole number")
    return value
