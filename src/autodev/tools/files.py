"""Read, Write, Edit, Glob and Grep, confined to the run's worktree.

Parameter names follow Claude Code's (`file_path`, `old_string`, ...) because models are trained on
them; paths are relative to the repository root.

Grep has two engines with one result: ripgrep when it is installed, a pure-Python walk otherwise. Both
search the same files (git's list of tracked and untracked-but-not-ignored files when the worktree is
a repository, every regular file otherwise; never symlinks, `.git/` or `.autodev/`), and every line
reported is matched and formatted by Python's `re`, so the output is identical byte for byte: rg only
makes finding the files that match fast.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import stat
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio

from autodev.core.text import DEFAULT_OUTPUT_CAP, cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.scopes import glob_regex
from autodev.sandbox.workspace import ToolError, Workspace, is_protected
from autodev.tools.base import ToolContext, optional_int, require_str
from autodev.tools.bash import Bash, tool_environment

MAX_READ_BYTES = 2_000_000
MAX_LINE_CHARS = 2000  # longer lines (minified code, data) are cut in Read's output
DEFAULT_READ_LINES = 2000
MAX_LISTED = 500
MAX_MATCHES = 200
MAX_MATCH_LINE_CHARS = 300
RG_BATCH_FILES, RG_BATCH_CHARS = 5000, 100_000  # files named on one rg command line
READ_CAP_HINT = "Read again with offset/limit to see the omitted lines"
GREP_CAP_HINT = "narrow the pattern, or pass path or glob to search fewer files"


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_PATH = {"type": "string", "description": "path relative to the repository root"}


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 1_000_000 else f"{count} bytes"


def _read_text(path: Path, shown: str) -> str:
    if path.is_dir():
        raise ToolError(f"{shown}: no such file (it is a directory; use Glob to list it)")
    if not path.is_file():
        raise ToolError(f"{shown}: no such file")
    size = path.stat().st_size
    if size > MAX_READ_BYTES:
        raise ToolError(
            f"{shown}: file is {_size(size)}, larger than the {_size(MAX_READ_BYTES)} Read limit; "
            "use Grep to find the lines you need"
        )
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{shown}: binary file ({_size(len(data))}, contains NUL bytes), not shown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{shown}: not UTF-8 text (invalid byte at offset {exc.start}); not shown") from None


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
        "Read a text file with line numbers. Use offset (1-based first line) and limit (number of lines) "
        f"for large files; at most {DEFAULT_READ_LINES} lines by default. Binary files and files over "
        f"{_size(MAX_READ_BYTES)} are refused.",
        _schema({"file_path": _PATH, "offset": {"type": "integer"}, "limit": {"type": "integer"}}, ["file_path"]),
    )
    cap_hint = READ_CAP_HINT

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        shown = require_str(args, "file_path")
        start = max((optional_int(args, "offset") or 1) - 1, 0)
        limit = optional_int(args, "limit")
        limit = DEFAULT_READ_LINES if limit is None else limit
        text = _read_text(ctx.workspace.resolve(shown), shown)
        if not text:
            return f"{shown}: empty file"
        lines = text.splitlines()
        chosen = lines[start : start + limit]
        if not chosen:
            return f"{shown}: {len(lines)} lines; nothing at offset {start + 1}"
        body = "\n".join(f"{start + i + 1:6}\t{_clip(line)}" for i, line in enumerate(chosen))
        more = len(lines) - (start + len(chosen))
        body += f"\n[{more} more lines; use offset {start + len(chosen) + 1}]" if more > 0 else ""
        return cap_output(body, DEFAULT_OUTPUT_CAP, READ_CAP_HINT)


def _clip(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS] + f" [... line cut; {len(line) - MAX_LINE_CHARS} more characters]"


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
    """Regular files under `start`, sorted; never symlinks, never inside a protected directory."""
    if start.is_file():
        yield start
        return
    for path in sorted(start.rglob("*")):
        if is_protected(path.relative_to(workspace.root).parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path


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


def path_key(rel: str) -> list[str]:
    """Sort order of Grep's results: by path component, so `a/b` comes before `a-c`."""
    return rel.split("/")


async def _git_files(root: Path) -> set[str] | None:
    """Tracked plus untracked-but-not-ignored files, when `root` is a repository's top; else None."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    try:
        result = await anyio.run_process(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            env=tool_environment(root),
            check=False,
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return {os.fsdecode(name) for name in result.stdout.split(b"\0") if name}


def _is_plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


async def grep_candidates(workspace: Workspace, base: Path, file_glob: str | None) -> list[str]:
    """The files Grep searches, as sorted paths relative to the root; the same for both engines."""
    root = workspace.root
    if base.is_file():
        found = [workspace.relative(base)]
    else:
        listed = await _git_files(root)
        prefix = "" if base == root else workspace.relative(base) + "/"
        if listed is None:
            found = [workspace.relative(path) for path in _walk(workspace, base)]
        else:
            found = [
                rel
                for rel in listed
                if rel.startswith(prefix) and not is_protected(rel.split("/")) and _is_plain_file(root / rel)
            ]
    if file_glob:
        found = [
            rel
            for rel in found
            if fnmatch.fnmatch(rel, file_glob) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1], file_glob)
        ]
    return sorted(found, key=path_key)


def _matching_lines(root: Path, rel: str, regex: re.Pattern[str]) -> Iterator[str]:
    try:
        text = _read_text(root / rel, rel)
    except (ToolError, OSError):
        return
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if regex.search(line):
            yield f"{rel}:{number}: {line.strip()[:MAX_MATCH_LINE_CHARS]}"


def _rg_can_run(pattern: str) -> bool:
    """POSIX classes (`[[:digit:]]`) mean different things to Python and to rg; let Python decide."""
    return shutil.which("rg") is not None and "[:" not in pattern


def _batches(files: list[str]) -> Iterator[list[str]]:
    """Slices of `files` short enough for one command line."""
    batch: list[str] = []
    size = 0
    for rel in files:
        if batch and (size + len(rel) + 1 > RG_BATCH_CHARS or len(batch) >= RG_BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(rel)
        size += len(rel) + 1
    if batch:
        yield batch


async def _rg_files_with_matches(root: Path, files: list[str], pattern: str, ignore_case: bool) -> set[str] | None:
    """The subset of `files` rg finds a match in, or None if rg failed (Python then searches them all)."""
    hits: set[str] = set()
    env = tool_environment(root)
    base = ["rg", "--no-config", "--files-with-matches", "--text", "--crlf", "--no-messages", "--null"]
    base += ["--max-filesize", str(MAX_READ_BYTES), "--ignore-case" if ignore_case else "--case-sensitive"]
    for batch in _batches(files):
        try:
            result = await anyio.run_process([*base, "--regexp", pattern, "--", *batch], cwd=root, env=env, check=False)
        except (OSError, ValueError):  # ValueError: a NUL in the pattern can't go on a command line
            return None
        if result.returncode not in (0, 1):
            return None
        hits.update(os.fsdecode(name) for name in result.stdout.split(b"\0") if name)
    return hits


class Grep:
    definition = ToolDefinition(
        "Grep",
        "Search file contents with a regular expression (Python syntax). Returns path:line: text for each "
        f"match, sorted by path then line, at most {MAX_MATCHES}. Files ignored by .gitignore, binary files "
        "and symlinks are skipped.",
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
    cap_hint = GREP_CAP_HINT

    def __init__(self, use_rg: bool | None = None) -> None:
        self.use_rg = use_rg  # None: ripgrep when installed

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        raw = require_str(args, "pattern")
        ignore_case = bool(args.get("ignore_case"))
        try:
            with warnings.catch_warnings():  # e.g. "possible nested set" for `[[:digit:]]`
                warnings.simplefilter("ignore")
                regex = re.compile(raw, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {raw!r}: {exc}") from None
        base = ctx.workspace.resolve(args.get("path") or ".")
        file_glob = args.get("glob")
        files = await grep_candidates(ctx.workspace, base, file_glob if isinstance(file_glob, str) else None)
        use_rg = _rg_can_run(raw) if self.use_rg is None else self.use_rg
        if use_rg and files:
            hits = await _rg_files_with_matches(ctx.workspace.root, files, raw, ignore_case)
            if hits is not None:
                files = [rel for rel in files if rel in hits]
        matches: list[str] = []
        for rel in files:
            for line in _matching_lines(ctx.workspace.root, rel, regex):
                matches.append(line)
                if len(matches) >= MAX_MATCHES:
                    text = "\n".join(matches) + f"\n[stopped at {MAX_MATCHES} matches; {GREP_CAP_HINT}]"
                    return cap_output(text, DEFAULT_OUTPUT_CAP, GREP_CAP_HINT)
        return cap_output("\n".join(matches), DEFAULT_OUTPUT_CAP, GREP_CAP_HINT) if matches else "No matches."


class RunTests:
    definition = ToolDefinition(
        "RunTests",
        "Run the project's test suite: pass/fail counts, the failing tests and their messages, then the output's tail.",
        _schema({}, []),
    )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        if ctx.run_tests is None:
            raise ToolError("no test command is configured for this repository")
        return await ctx.run_tests()


def builtin_tools(bash: Bash | None = None) -> dict[str, Any]:
    """Every implemented tool; Bash as given (its defaults when None)."""
    tools: tuple[Any, ...] = (Read(), Write(), Edit(), Glob(), Grep(), RunTests(), bash or Bash())
    return {tool.definition.name: tool for tool in tools}
