"""Read, Write, Edit, Glob and Grep, confined to the run's worktree.

Parameter names follow Claude Code's (`file_path`, `old_string`, ...) because models are trained on
them; paths are relative to the repository root.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from autodev.models import ToolDefinition
from autodev.tools.base import ToolContext, optional_int, require_str
from autodev.tools.workspace import PROTECTED_DIRS, ToolError, Workspace

MAX_READ_BYTES = 2_000_000
MAX_LISTED = 500
MAX_MATCHES = 200


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_PATH = {"type": "string", "description": "path relative to the repository root"}


def _read_text(path: Path, shown: str) -> str:
    if not path.is_file():
        raise ToolError(f"{shown}: no such file")
    if path.stat().st_size > MAX_READ_BYTES:
        raise ToolError(f"{shown}: file is larger than {MAX_READ_BYTES} bytes; use Grep to find what you need")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{shown}: binary file, not shown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{shown}: not UTF-8 text") from None


def _write_text(path: Path, text: str) -> None:
    """Encode before opening, so content that can't be encoded never leaves a file truncated."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ToolError(f"content is not valid UTF-8 text: {exc.reason}") from None
    path.write_bytes(data)


class Read:
    definition = ToolDefinition(
        "Read",
        "Read a text file with line numbers. Use offset (1-based first line) and limit for large files.",
        _schema({"file_path": _PATH, "offset": {"type": "integer"}, "limit": {"type": "integer"}}, ["file_path"]),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        text = _read_text(ctx.workspace.resolve(shown), shown)
        lines = text.splitlines()
        start = max((optional_int(args, "offset") or 1) - 1, 0)
        limit = optional_int(args, "limit")
        limit = 2000 if limit is None else limit
        chosen = lines[start : start + limit]
        if not chosen:
            return f"{shown}: {len(lines)} lines; nothing at offset {start + 1}"
        body = "\n".join(f"{start + i + 1:6}\t{line}" for i, line in enumerate(chosen))
        more = len(lines) - (start + len(chosen))
        return body + (f"\n[{more} more lines; use offset {start + len(chosen) + 1}]" if more > 0 else "")


class Write:
    definition = ToolDefinition(
        "Write",
        "Create or overwrite a file with the given content.",
        _schema({"file_path": _PATH, "content": {"type": "string"}}, ["file_path", "content"]),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        content = require_str(args, "content")
        path = ctx.workspace.resolve(shown, for_write=True)
        if path.is_dir():
            raise ToolError(f"{shown}: is a directory")
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_text(path, content)
        return f"{'Overwrote' if existed else 'Created'} {shown} ({len(content.splitlines())} lines)"


class Edit:
    definition = ToolDefinition(
        "Edit",
        "Replace old_string with new_string in a file. old_string must match exactly once unless replace_all.",
        _schema(
            {
                "file_path": _PATH,
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
        path = ctx.workspace.resolve(shown, for_write=True)
        text = _read_text(path, shown)
        if old == "":
            raise ToolError("old_string is empty; use Write to create a file")
        count = text.count(old)
        if count == 0:
            raise ToolError(f"{shown}: old_string not found; Read the file and copy the text exactly")
        if count > 1 and not args.get("replace_all"):
            raise ToolError(f"{shown}: old_string matches {count} times; add context to make it unique")
        _write_text(path, text.replace(old, new))
        return f"Edited {shown}: {count} replacement{'s' if count > 1 else ''}"


def _walk(workspace: Workspace, start: Path) -> Iterator[Path]:
    if start.is_file():
        yield start
        return
    for path in sorted(start.rglob("*")):
        rel = path.relative_to(workspace.root).parts
        if rel and rel[0] in PROTECTED_DIRS:
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob: `*` and `?` stay within one directory, `**/` spans any number of them."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


class Glob:
    definition = ToolDefinition(
        "Glob",
        "List files matching a glob pattern such as '**/*.py', optionally under a directory.",
        _schema({"pattern": {"type": "string"}, "path": _PATH}, ["pattern"]),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        pattern = require_str(args, "pattern")
        base = ctx.workspace.resolve(args.get("path") or ".")
        if ".." in Path(pattern).parts or Path(pattern).is_absolute():
            raise ctx.workspace.refuse(f"{pattern!r}: patterns must stay inside the repository")
        matcher = glob_regex(pattern)
        found = []
        for path in _walk(ctx.workspace, base):
            if matcher.fullmatch(path.relative_to(base).as_posix()):
                found.append(ctx.workspace.relative(path))
        if not found:
            return "No files matched."
        extra = f"\n[{len(found) - MAX_LISTED} more not shown]" if len(found) > MAX_LISTED else ""
        return "\n".join(found[:MAX_LISTED]) + extra


class Grep:
    definition = ToolDefinition(
        "Grep",
        "Search file contents with a regular expression. Returns path:line: text for each match.",
        _schema(
            {
                "pattern": {"type": "string"},
                "path": _PATH,
                "glob": {"type": "string", "description": "only files whose path matches, e.g. '*.py'"},
                "ignore_case": {"type": "boolean"},
            },
            ["pattern"],
        ),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        raw = require_str(args, "pattern")
        try:
            regex = re.compile(raw, re.IGNORECASE if args.get("ignore_case") else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {raw!r}: {exc}") from None
        base = ctx.workspace.resolve(args.get("path") or ".")
        file_glob = args.get("glob")
        matches: list[str] = []
        for path in _walk(ctx.workspace, base):
            rel = ctx.workspace.relative(path)
            if isinstance(file_glob, str) and not (
                fnmatch.fnmatch(rel, file_glob) or fnmatch.fnmatch(path.name, file_glob)
            ):
                continue
            try:
                text = _read_text(path, rel)
            except ToolError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if regex.search(line):
                    matches.append(f"{rel}:{number}: {line.strip()[:300]}")
                    if len(matches) >= MAX_MATCHES:
                        return "\n".join(matches) + f"\n[stopped at {MAX_MATCHES} matches; narrow the search]"
        return "\n".join(matches) if matches else "No matches."


class RunTests:
    definition = ToolDefinition(
        "RunTests",
        "Run the project's test suite and return the outcome and the output's tail.",
        _schema({}, []),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        if ctx.run_tests is None:
            raise ToolError("no test command is configured for this repository")
        return await ctx.run_tests()


def builtin_tools() -> dict[str, Any]:
    return {tool.definition.name: tool for tool in (Read(), Write(), Edit(), Glob(), Grep(), RunTests())}
