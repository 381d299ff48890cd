"""Read, Write, Edit and Glob, confined to the run's worktree (Grep is in `autodev.tools.grep`).

Parameter names follow Claude Code's (`file_path`, `old_string`, ...) because models are trained on
them; paths are relative to the repository root. Each tool's file work (resolving the path included)
runs in a worker thread, so a slow disk, a huge tree or a FIFO that blocks on open stalls only the
agent that asked for it, never the event loop the parallel agents share.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

from autodev.core.text import cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.scopes import glob_regex
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext, optional_int, require_str
from autodev.tools.bash import Bash
from autodev.tools.edit_checks import (
    check_line_prefixes,
    check_placeholders,
    check_python,
    nearest_lines,
    snippet_around,
)
from autodev.tools.filesystem import MAX_READ_BYTES as MAX_READ_BYTES
from autodev.tools.filesystem import PATH_PROPERTY, read_text, schema, size_text, walk, write_text
from autodev.tools.grep import Grep

MAX_LINE_CHARS = 2000  # longer lines (minified code, data) are cut in Read's output
# sized for agents that work in 8-16K tokens: one default Read is about 3K tokens, one listing under 1K
DEFAULT_READ_LINES = 250
READ_OUTPUT_CAP = 12_000  # characters
MAX_LISTED = 150
READ_CAP_HINT = "Read again with offset/limit to see the omitted lines"


class Read:
    definition = ToolDefinition(
        "Read",
        "Read a text file with line numbers (each line is shown as its number, a tab, then the text; the "
        "number and tab are not part of the file). Use offset (1-based first line) and limit (number of "
        f"lines); at most {DEFAULT_READ_LINES} lines by default, so Grep first and read only the range you "
        f"need. Binary files and files over {size_text(MAX_READ_BYTES)} are refused.",
        schema(
            {"file_path": PATH_PROPERTY, "offset": {"type": "integer"}, "limit": {"type": "integer"}}, ["file_path"]
        ),
    )
    cap_hint = READ_CAP_HINT

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        start = max((optional_int(args, "offset") or 1) - 1, 0)
        limit = optional_int(args, "limit")
        limit = DEFAULT_READ_LINES if limit is None else limit
        return await anyio.to_thread.run_sync(self._read, ctx, shown, start, limit)

    @staticmethod
    def _read(ctx: ToolContext, shown: str, start: int, limit: int) -> str:
        path = ctx.workspace.resolve(shown)
        text = read_text(path, shown)
        ctx.saw(path)
        if not text:
            return f"{shown}: empty file"
        lines = text.splitlines()
        chosen = lines[start : start + limit]
        if not chosen:
            return f"{shown}: {len(lines)} lines; nothing at offset {start + 1}"
        body = "\n".join(f"{start + i + 1:6}\t{_clip(line)}" for i, line in enumerate(chosen))
        more = len(lines) - (start + len(chosen))
        body += f"\n[{more} more lines; use offset {start + len(chosen) + 1}]" if more > 0 else ""
        return cap_output(body, READ_OUTPUT_CAP, READ_CAP_HINT)


def _clip(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS] + f" [... line cut; {len(line) - MAX_LINE_CHARS} more characters]"


class Write:
    definition = ToolDefinition(
        "Write",
        "Create a file with the given content, or overwrite one you have Read in this session (prefer Edit "
        "for changes to an existing file). Write the whole content: placeholder lines such as "
        "'# ... existing code ...' are refused.",
        schema({"file_path": PATH_PROPERTY, "content": {"type": "string"}}, ["file_path", "content"]),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        content = require_str(args, "content")
        return await anyio.to_thread.run_sync(self._write, ctx, shown, content)

    @staticmethod
    def _write(ctx: ToolContext, shown: str, content: str) -> str:
        path = ctx.workspace.resolve(shown, for_write=True)
        if path.is_dir():
            raise ToolError(f"{shown}: is a directory")
        existed = path.exists()
        if existed and not ctx.has_read(path):
            raise ToolError(
                f"{shown}: the file exists and you have not Read it in this session; Read it first, then "
                "use Edit to change it (or Write the complete new content)"
            )
        before = _existing_text(path, shown) if existed else None
        check_placeholders(shown, content, before or "")
        if path.suffix == ".py":
            check_python(shown, before, content)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, content)
        ctx.saw(path)
        return f"{'Overwrote' if existed else 'Created'} {shown} ({len(content.splitlines())} lines)"


def _existing_text(path: Path, shown: str) -> str | None:
    """The file's text, or None when it is not text Read could show (binary, too large)."""
    try:
        return read_text(path, shown)
    except ToolError:
        return None


class Edit:
    definition = ToolDefinition(
        "Edit",
        "Replace old_string with new_string in a file you have Read in this session. old_string must match "
        "the file exactly (without Read's line numbers) and only once unless replace_all; include a few "
        "lines of context to make it unique. An edit that leaves a .py file unparsable is refused.",
        schema(
            {
                "file_path": PATH_PROPERTY,
                "old_string": {"type": "string"},
                "new_string": {"type": "string"},
                "replace_all": {"type": "boolean"},
            },
            ["file_path", "old_string", "new_string"],
        ),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        old, new = require_str(args, "old_string"), require_str(args, "new_string")
        replace_all = bool(args.get("replace_all"))
        return await anyio.to_thread.run_sync(self._edit, ctx, shown, old, new, replace_all)

    @staticmethod
    def _edit(ctx: ToolContext, shown: str, old: str, new: str, replace_all: bool) -> str:
        path = ctx.workspace.resolve(shown, for_write=True)
        text = read_text(path, shown)
        if old == "":
            raise ToolError("old_string is empty; use Write to create a file")
        if not ctx.has_read(path):
            raise ToolError(f"{shown}: you have not Read this file in this session; Read the lines you change first")
        count = text.count(old)
        if count == 0:
            check_line_prefixes(shown, old, new)
            near = nearest_lines(text, old)
            hint = f"; the closest lines are:\n{near}\nCopy them exactly (without the numbers)" if near else ""
            raise ToolError(f"{shown}: old_string not found{hint or '; Read the file and copy the text exactly'}")
        if count > 1 and not replace_all:
            raise ToolError(f"{shown}: old_string matches {count} times; add context to make it unique")
        check_placeholders(shown, new, old)
        after = text.replace(old, new)
        if path.suffix == ".py":
            check_python(shown, text, after)
        write_text(path, after)
        ctx.saw(path)
        at = text.index(old)
        shown_after = snippet_around(after, at, len(new))
        return f"Edited {shown}: {count} replacement{'s' if count > 1 else ''}\n{shown_after}"


class Glob:
    definition = ToolDefinition(
        "Glob",
        "List files matching a glob pattern such as '**/*.py', optionally under a directory.",
        schema({"pattern": {"type": "string"}, "path": PATH_PROPERTY}, ["pattern"]),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        pattern = require_str(args, "pattern")
        return await anyio.to_thread.run_sync(self._glob, ctx.workspace, pattern, args.get("path") or ".")

    @staticmethod
    def _glob(workspace: Workspace, pattern: str, under: str) -> str:
        base = workspace.resolve(under)
        if ".." in Path(pattern).parts or Path(pattern).is_absolute():
            raise workspace.refuse(f"{pattern!r}: patterns must stay inside the repository")
        matcher = glob_regex(pattern)
        found = [
            workspace.relative(path)
            for path in walk(workspace, base)
            if matcher.fullmatch(path.relative_to(base).as_posix())
        ]
        if not found:
            return "No files matched."
        extra = f"\n[{len(found) - MAX_LISTED} more not shown]" if len(found) > MAX_LISTED else ""
        return "\n".join(found[:MAX_LISTED]) + extra


class RunTests:
    definition = ToolDefinition(
        "RunTests",
        "Run the project's test suite: pass/fail counts, the failing tests and their messages, then the output's tail.",
        schema({}, []),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        if ctx.run_tests is None:
            raise ToolError("no test command is configured for this repository")
        return await ctx.run_tests()


def builtin_tools(bash: Bash | None = None) -> dict[str, Any]:
    """Every implemented tool; Bash as given (its defaults when None)."""
    tools: tuple[Any, ...] = (Read(), Write(), Edit(), Glob(), Grep(), RunTests(), bash or Bash())
    return {tool.definition.name: tool for tool in tools}
