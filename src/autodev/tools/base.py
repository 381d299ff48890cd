"""The tool seam: a tool is a name, a JSON schema and an async call that returns text.

Tools never raise into the agent loop: a `ToolError` becomes an error result the model can read and
act on, so a bad path or a missed edit costs one turn, not the run.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from autodev.core.text import DEFAULT_CAP_HINT, cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.workspace import ToolError, Workspace


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
