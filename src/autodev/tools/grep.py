"""Grep: search file contents with a regular expression, confined to the run's worktree.

Grep has two engines with one result: ripgrep when it is installed, a pure-Python walk otherwise. Both
search the same files (git's list of tracked and untracked-but-not-ignored files when the worktree is
a repository, every regular file otherwise; never symlinks, `.git/` or `.autodev/`), and every line
reported is matched and formatted by Python's `re`, so the output is identical byte for byte: rg only
makes finding the files that match fast. git and rg run through `autodev.core.process`; walking and
reading files runs in a worker thread, off the event loop the parallel agents share.
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

from autodev.core.gitops import git_argv
from autodev.core.process import Command, HeadTail, run_process
from autodev.core.text import cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.jail import allowed_environment
from autodev.sandbox.workspace import ToolError, Workspace, is_protected
from autodev.tools.base import ToolContext, require_str
from autodev.tools.bash import tool_environment
from autodev.tools.filesystem import MAX_READ_BYTES, PATH_PROPERTY, read_text, schema, walk

MAX_MATCHES = 100  # sized for agents that work in 8-16K tokens, as Read's and Glob's defaults are
GREP_OUTPUT_CAP = 10_000  # characters
OUTPUT_MODES = ("content", "files_with_matches", "count")
MAX_MATCH_LINE_CHARS = 300
RG_BATCH_FILES, RG_BATCH_CHARS = 5000, 100_000  # files named on one rg command line
LISTING_TIMEOUT_S = 600.0  # git ls-files and rg: far beyond any real tree, only so nothing waits forever
GREP_CAP_HINT = "narrow the pattern, or pass path or glob to search fewer files"


def path_key(rel: str) -> list[str]:
    """Sort order of Grep's results: by path component, so `a/b` comes before `a-c`."""
    return rel.split("/")


async def _output_of(argv: list[str], root: Path) -> tuple[int | None, bytes]:
    """(exit code, stdout) of a listing program; stderr is dropped."""
    out = HeadTail.everything()
    finished = await run_process(
        Command.of(argv, root, allowed_environment(tool_environment(root))),
        LISTING_TIMEOUT_S,
        out,
        errors=HeadTail(0, 0),
    )
    return finished.exit_code, bytes(out.head)


async def _git_files(root: Path) -> set[str] | None:
    """Tracked plus untracked-but-not-ignored files, when `root` is a repository's top; else None."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    try:
        code, stdout = await _output_of(
            git_argv(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root), root
        )
    except OSError:
        return None
    if code != 0:
        return None
    return {os.fsdecode(name) for name in stdout.split(b"\0") if name}


def _is_plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _candidates(workspace: Workspace, base: Path, listed: set[str] | None, file_glob: str | None) -> list[str]:
    root = workspace.root
    if base.is_file():
        found = [workspace.relative(base)]
    elif listed is None:
        found = [workspace.relative(path) for path in walk(workspace, base)]
    else:
        prefix = "" if base == root else workspace.relative(base) + "/"
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


async def grep_candidates(workspace: Workspace, base: Path, file_glob: str | None) -> list[str]:
    """The files Grep searches, as sorted paths relative to the root; the same for both engines."""
    is_file = await anyio.to_thread.run_sync(base.is_file)
    listed = None if is_file else await _git_files(workspace.root)
    return await anyio.to_thread.run_sync(_candidates, workspace, base, listed, file_glob)


def _matching_lines(root: Path, rel: str, regex: re.Pattern[str]) -> Iterator[str]:
    try:
        text = read_text(root / rel, rel)
    except (ToolError, OSError):
        return
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if regex.search(line):
            yield f"{rel}:{number}: {line.strip()[:MAX_MATCH_LINE_CHARS]}"


def _matches(root: Path, files: list[str], regex: re.Pattern[str], mode: str = "content") -> str:
    if mode != "content":
        return _per_file(root, files, regex, mode)
    matches: list[str] = []
    for rel in files:
        for line in _matching_lines(root, rel, regex):
            matches.append(line)
            if len(matches) >= MAX_MATCHES:
                text = "\n".join(matches) + f"\n[stopped at {MAX_MATCHES} matches; {GREP_CAP_HINT}]"
                return cap_output(text, GREP_OUTPUT_CAP, GREP_CAP_HINT)
    return cap_output("\n".join(matches), GREP_OUTPUT_CAP, GREP_CAP_HINT) if matches else "No matches."


def _per_file(root: Path, files: list[str], regex: re.Pattern[str], mode: str) -> str:
    """One line per file with a match: its path (files_with_matches) or `path: N` (count)."""
    rows: list[str] = []
    for rel in files:
        count = sum(1 for _ in _matching_lines(root, rel, regex))
        if count:
            rows.append(rel if mode == "files_with_matches" else f"{rel}: {count}")
        if len(rows) >= MAX_MATCHES:
            rows.append(f"[stopped at {MAX_MATCHES} files; {GREP_CAP_HINT}]")
            break
    return cap_output("\n".join(rows), GREP_OUTPUT_CAP, GREP_CAP_HINT) if rows else "No matches."


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
    base = ["rg", "--no-config", "--files-with-matches", "--text", "--crlf", "--no-messages", "--null"]
    base += ["--max-filesize", str(MAX_READ_BYTES), "--ignore-case" if ignore_case else "--case-sensitive"]
    for batch in _batches(files):
        try:
            code, stdout = await _output_of([*base, "--regexp", pattern, "--", *batch], root)
        except (OSError, ValueError):  # ValueError: a NUL in the pattern can't go on a command line
            return None
        if code not in (0, 1):
            return None
        hits.update(os.fsdecode(name) for name in stdout.split(b"\0") if name)
    return hits


class Grep:
    definition = ToolDefinition(
        "Grep",
        "Search file contents with a regular expression (Python syntax). Returns path:line: text for each "
        f"match, sorted by path then line, at most {MAX_MATCHES}; output_mode 'files_with_matches' lists only "
        "the paths and 'count' the matches per file, to find where to look first. Files ignored by "
        ".gitignore, binary files and symlinks are skipped.",
        schema(
            {
                "pattern": {"type": "string"},
                "path": PATH_PROPERTY,
                "glob": {"type": "string", "description": "only files whose path matches, e.g. '*.py'"},
                "ignore_case": {"type": "boolean"},
                "output_mode": {"type": "string", "enum": list(OUTPUT_MODES)},
            },
            ["pattern"],
        ),
    )
    cap_hint = GREP_CAP_HINT

    def __init__(self, use_rg: bool | None = None) -> None:
        self.use_rg = use_rg  # None: ripgrep when installed

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        raw = require_str(args, "pattern")
        mode = args.get("output_mode") or "content"
        if mode not in OUTPUT_MODES:
            raise ToolError(f"output_mode must be one of {', '.join(OUTPUT_MODES)}")
        ignore_case = bool(args.get("ignore_case"))
        try:
            with warnings.catch_warnings():  # e.g. "possible nested set" for `[[:digit:]]`
                warnings.simplefilter("ignore")
                regex = re.compile(raw, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {raw!r}: {exc}") from None
        base = await anyio.to_thread.run_sync(ctx.workspace.resolve, args.get("path") or ".")
        file_glob = args.get("glob")
        files = await grep_candidates(ctx.workspace, base, file_glob if isinstance(file_glob, str) else None)
        use_rg = _rg_can_run(raw) if self.use_rg is None else self.use_rg
        if use_rg and files:
            hits = await _rg_files_with_matches(ctx.workspace.root, files, raw, ignore_case)
            if hits is not None:
                files = [rel for rel in files if rel in hits]
        return await anyio.to_thread.run_sync(_matches, ctx.workspace.root, files, regex, mode)
