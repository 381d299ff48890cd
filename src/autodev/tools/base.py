"""The tool seam: a tool is a name, a JSON schema and an async call that returns text.

Tools never raise into the agent loop: a `ToolError` becomes an error result the model can read and
act on, so a bad path or a missed edit costs one turn, not the run.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from autodev.core.text import DEFAULT_CAP_HINT, cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.jail import Jail, SandboxPolicy
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
    jail: Jail | None = None  # a run always gives its jail; None (tools used on their own): unconfined
    # files this agent has Read or written in this session (resolved paths); Edit and overwriting Write
    # need the file in it. None (tools used on their own): not tracked, nothing refused for it
    reads: set[Path] | None = None

    def has_read(self, path: Path) -> bool:
        return self.reads is None or path in self.reads

    def saw(self, path: Path) -> None:
        """The agent has seen `path`'s current content (it read or wrote it)."""
        if self.reads is not None:
            self.reads.add(path)

    def confinement(self) -> Jail:
        """The jail programs started by a tool run in."""
        return self.jail or Jail("none", SandboxPolicy(mode="off"), self.workspace.root)


class Tool(Protocol):
    @property
    def definition(self) -> ToolDefinition: ...

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str: ...


def valid_text(text: str) -> str:
    """`text` as valid Unicode: a byte that is not UTF-8 (a file name git or the file system handed over as
    a lone surrogate) is shown as `\\xNN`, any other lone surrogate as `\\udNNN`.

    Tool results go to the session file, to state.json and back to the model, all UTF-8: one bad name in
    a listing must not end the run.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif "\ud800" <= char <= "\udfff":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


async def invoke(tool: Tool, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    try:
        text = await tool(args, ctx)
        return ToolResult(valid_text(cap_output(text, hint=getattr(tool, "cap_hint", DEFAULT_CAP_HINT))))
    except ToolError as exc:
        return ToolResult(valid_text(f"Error: {exc}"), is_error=True)
    except (OSError, UnicodeError) as exc:  # e.g. a path under a file: the model's to fix, not a crashed run
        detail = str(exc).replace(str(ctx.workspace.root) + os.sep, "")
        return ToolResult(valid_text(f"Error: {detail}"), is_error=True)


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
