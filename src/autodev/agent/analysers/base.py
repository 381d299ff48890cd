"""The analyser protocol: an `AnalysisInput` in, an `AnalyserResult` out, plus the helpers analysers share.

An analyser is a plain function of the input. It never raises for an expected problem: a scanner that
is not installed is `missing` (with what to install), one that fails or times out is `error`, and only
a scanner that ran and found nothing is `ok`. Programs run as argv lists (never a shell), in the
worktree, with a timeout and an environment without API keys.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import anyio

from autodev.core.process import HeadTail, run_process
from autodev.sandbox.jail import Jail, SandboxPolicy

Status = Literal["ok", "findings", "missing", "error"]
Severity = Literal["info", "low", "medium", "high"]

DEFAULT_TIMEOUT_S = 60.0
MAX_FILES = 400  # changed files handed to one scanner; the rest are named in the note
PYTHON = sys.executable  # the interpreter that runs `python -m ruff` / `python -m bandit`


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    rule: str
    message: str
    severity: Severity = "info"


@dataclass(frozen=True)
class AnalyserResult:
    name: str
    status: Status
    findings: list[Finding] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class ChangedFile:
    """One entry of `git diff --name-status`: status A, M, D, R (renamed), C, T; counts are None for binaries."""

    path: str
    status: str
    old_path: str | None = None
    added: int | None = None
    deleted: int | None = None


@dataclass(frozen=True)
class AnalysisInput:
    worktree: Path
    base: str
    changed: tuple[ChangedFile, ...]
    diff: str
    tests: str | None = None  # the last test run's summary, None when tests were not run
    jail: Jail | None = None  # where the scanners run (a run always gives one; None: unconfined)
    tests_at: str | None = None  # the commit the tests stood at when the implementer started (None: base)


Analyser = Callable[[AnalysisInput, float], AnalyserResult]
"""`analyser(input, timeout_s) -> result`."""


def result(name: str, findings: list[Finding], note: str = "") -> AnalyserResult:
    return AnalyserResult(name, "findings" if findings else "ok", findings, note)


def missing(name: str, what: str, install: str) -> AnalyserResult:
    return AnalyserResult(name, "missing", [], f"{what}; not run, so this is NOT 'no findings'. Install: {install}")


def module_available(module: str) -> bool:
    """Whether `PYTHON -m module` can work; a seam tests replace to simulate a missing scanner."""
    return importlib.util.find_spec(module) is not None


def python_module(module: str) -> list[str]:
    """`python -P -m module`: -P keeps the worktree (cwd) off sys.path, so a changed file named
    `ruff.py` or `bandit/` is never imported in place of the scanner."""
    return [PYTHON, "-P", "-m", module]


def unavailable(name: str, module: str, install: str) -> AnalyserResult | None:
    """A `missing` result when `module` can't be run, else None."""
    if module_available(module):
        return None
    return missing(name, f"{module} is not installed for {PYTHON}", install)


def run_program(
    argv: list[str], cwd: Path, timeout_s: float, jail: Jail | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one program; raises `subprocess.TimeoutExpired` or `OSError` for the caller to classify.

    Analysers are plain functions (run in a worker thread by the orchestrator), so this runs the one
    process runner on an event loop of its own: the same process group and kill rules as every tool.
    """
    out, err = HeadTail.everything(), HeadTail.everything()  # parsed whole: a scanner's JSON report
    confined = jail or Jail("none", SandboxPolicy(mode="off"), cwd)
    command = confined.command(argv, cwd, {"PYTHONDONTWRITEBYTECODE": "1"})
    finished = anyio.run(functools.partial(run_process, command, timeout_s, out, err))
    if finished.timed_out:
        raise subprocess.TimeoutExpired(argv, timeout_s, out.decoded(), err.decoded())
    return subprocess.CompletedProcess(argv, finished.exit_code or 0, _text(out), _text(err))


def _text(stream: HeadTail) -> str:
    """Decoded with universal newlines, as `subprocess.run(text=True)` gives it."""
    return stream.decoded().replace("\r\n", "\n").replace("\r", "\n")


def inside(worktree: Path, rel: str) -> Path | None:
    """The regular file `rel` in the worktree, or None: missing, not a file, or resolving outside it
    (a symlink that points out is not followed, like the tools' sandbox)."""
    path = worktree / rel
    try:
        resolved = path.resolve(strict=True)
        resolved.relative_to(worktree.resolve())
    except (OSError, ValueError):
        return None
    return path if resolved.is_file() else None


def present(inp: AnalysisInput) -> list[ChangedFile]:
    """Changed files that exist in the worktree (not deleted), inside it."""
    return [f for f in inp.changed if f.status != "D" and inside(inp.worktree, f.path) is not None]


def python_files(inp: AnalysisInput) -> list[str]:
    return [f.path for f in present(inp) if f.path.endswith((".py", ".pyi"))]


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def capped_files(files: list[str]) -> tuple[list[str], str]:
    if len(files) <= MAX_FILES:
        return files, ""
    return files[:MAX_FILES], f"only the first {MAX_FILES} of {len(files)} changed files were scanned"


# ------------------------------------------------------------------------------------------ the diff
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def _diff_path(line: str) -> str | None:
    """The path of a `+++ b/path` line (None for /dev/null); git C-quotes unusual names."""
    raw = line[4:].rstrip("\n").removesuffix("\t")  # git ends a name with a space in a tab
    if raw == "/dev/null":
        return None
    if raw.startswith('"') and raw.endswith('"'):
        raw = unquote_c(raw[1:-1])
    return raw[2:] if raw.startswith("b/") else raw


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_c(text: str) -> str:
    """Undo git's C-style quoting of a path (octal escapes are UTF-8 bytes)."""
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if re.fullmatch(r"[0-3][0-7]{2}", text[i + 1 : i + 4]):
                out.append(int(text[i + 1 : i + 4], 8))
                i += 4
                continue
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def added_lines(diff: str) -> dict[str, list[tuple[int, str]]]:
    """Per new path, the lines the diff adds: (line number in the new file, text)."""
    out: dict[str, list[tuple[int, str]]] = {}
    path: str | None = None
    line_no = 0
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = _diff_path(line)
            continue
        if line.startswith("diff --git "):
            path = None
            continue
        hunk = _HUNK.match(line)
        if hunk:
            line_no = int(hunk.group(1))
            continue
        if path is None or not line or line.startswith(("---", "\\")):
            continue
        if line[0] == "+":
            out.setdefault(path, []).append((line_no, line[1:]))
            line_no += 1
        elif line[0] == " ":
            line_no += 1
    return out


def touched(diff: str) -> dict[str, set[int]]:
    return {path: {n for n, _ in lines} for path, lines in added_lines(diff).items()}


def untouched_last(findings: Iterable[Finding], diff: str) -> list[Finding]:
    """Findings on lines the change added first; the others marked as such, so a cap drops them first."""
    lines = touched(diff)
    fresh, old = [], []
    for f in findings:
        if f.line is None or f.line in lines.get(f.path, set()):
            fresh.append(f)
        else:
            old.append(Finding(f.path, f.line, f.rule, f"{f.message} [line not changed by this diff]", f.severity))
    return fresh + old
