"""The reviewer's analysers: the diff's shape, ruff on the changed Python files, and the test results."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from autodev.agent.analysers.base import (
    AnalyserResult,
    AnalysisInput,
    Finding,
    Severity,
    capped_files,
    missing,
    python_files,
    python_module,
    result,
    run_program,
    unavailable,
    untouched_last,
)

STATUS_WORDS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "copied", "T": "type changed"}


def diff_stat(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    """Mostly a formatter: the changed files with their line counts, and the totals."""
    findings = []
    added = deleted = 0
    for f in inp.changed:
        added += f.added or 0
        deleted += f.deleted or 0
        counts = "binary" if f.added is None else f"+{f.added} -{f.deleted}"
        what = STATUS_WORDS.get(f.status, f.status)
        if f.old_path:
            what += f" from {f.old_path}"
        findings.append(Finding(f.path, None, what, counts, "info"))
    if not findings:
        return AnalyserResult("diff", "ok", [], f"no changes against {inp.base[:12]}")
    note = f"{len(findings)} file(s) changed, +{added} -{deleted} lines against {inp.base[:12]}"
    return AnalyserResult("diff", "findings", findings, note)


# ------------------------------------------------------------------------------------------ ruff
def _ruff_severity(code: str | None) -> Severity:
    if code is None or code.startswith(("E9", "F63", "F7", "F82")):  # syntax errors, undefined names
        return "high"
    if code.startswith(("F", "B", "S")):
        return "medium"
    return "low"


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def ruff(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    files, capped = capped_files(python_files(inp))
    if not files:
        return AnalyserResult("ruff", "ok", [], "no changed Python files")
    absent = unavailable("ruff", "ruff", "pip install ruff (a dependency of autonomous-dev)")
    if absent:
        return absent
    argv = [*python_module("ruff"), "check", "--output-format", "json", "--no-cache", "--force-exclude"]
    notes = [capped] if capped else []
    try:
        done = run_program([*argv, "--", *files], inp.worktree, timeout_s, inp.jail)
        if done.returncode == 2:  # ruff itself failed, most often the project's ruff config: try without it
            notes.append(f"ruff failed with the project's configuration ({_first_line(done.stderr)}); ran --isolated")
            done = run_program([*argv, "--isolated", "--", *files], inp.worktree, timeout_s, inp.jail)
    except subprocess.TimeoutExpired:
        return AnalyserResult("ruff", "error", [], f"ruff timed out after {timeout_s:.0f}s")
    except OSError as exc:
        return missing("ruff", f"could not start {argv[0]} -m ruff ({exc})", "pip install ruff")
    if done.returncode not in (0, 1):
        return AnalyserResult("ruff", "error", [], f"ruff exited {done.returncode}: {_first_line(done.stderr)}")
    try:
        items: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return AnalyserResult("ruff", "error", [], f"unreadable ruff output: {done.stdout[:200]!r}")
    findings = [
        Finding(
            _relative(item.get("filename", ""), inp.worktree),
            (item.get("location") or {}).get("row"),
            item.get("code") or "syntax-error",
            str(item.get("message", "")),
            _ruff_severity(item.get("code")),
        )
        for item in items
    ]
    notes.insert(0, f"ruff on {len(files)} changed Python file(s) with the project's configuration")
    return result("ruff", untouched_last(findings, inp.diff), "; ".join(notes))


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else "no message"


# ------------------------------------------------------------------------------------------ tests
_PYTEST_FAILED = re.compile(r"^(FAILED|ERROR) (\S+?)(?:::(\S+))?(?: - (.*))?$")
TAIL_CHARS = 1500
PREEXISTING_PREFIX = "Already failing at the base"  # the gate's summary line (`autodev.run.gate.verdict`)


def _dotted(path: str, test: str | None) -> str:
    """`tests/test_x.py` + `Cls::test_y` as the gate's test ids name it: `tests.test_x.Cls.test_y`."""
    module = path.removesuffix(".py").replace("/", ".")
    return f"{module}.{test.replace('::', '.')}" if test else module


def _preexisting(lines: list[str]) -> set[str]:
    """The tests the gate found failing at the base too (its summary lists them on one line)."""
    for line in lines:
        if line.startswith(PREEXISTING_PREFIX):
            return {name.strip() for name in line.split(": ", 1)[-1].split(",") if name.strip()}
    return set()


def tests(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    """Wrap the orchestrator's last test run: one finding per failing test pytest names, the head line as note.

    Tests the gate found failing at the base too are not findings (the change did not break them: the
    note says so); a run in which no tests ran is a finding of its own, never 'tests pass'.
    """
    if inp.tests is None:
        return AnalyserResult(
            "tests",
            "missing",
            [],
            "no test results: the tests were not run (the tests section says why); NOT 'tests pass'.",
        )
    text = inp.tests.strip()
    head, _, rest = text.partition("\n")
    lines = rest.splitlines()
    if "NO TESTS RAN" in head:
        message = "no tests ran: the test command collected no tests, so nothing checked this change (NOT a pass)"
        return result("tests", [Finding("", None, "no-tests", message, "high")], head)
    old = _preexisting(lines)
    note = head + (f"; {len(old)} test(s) already failing at the base, not caused by this change" if old else "")
    failed = re.search(r"\b(FAILED|TIMED OUT|ERROR)\b", head) is not None
    findings = []
    for line in lines if failed else []:
        match = _PYTEST_FAILED.match(line.strip())
        if match:
            kind, path, test, message = match.groups()
            if _dotted(path, test) in old:
                continue
            rule = "test-failed" if kind == "FAILED" else "test-error"
            name = f"{test}: " if test else ""
            findings.append(Finding(path, None, rule, f"{name}{message or kind.lower()}", "high"))
    if failed and not findings:  # not pytest, or no summary: the output's tail is the fact
        tail = rest[-TAIL_CHARS:]
        findings.append(Finding("", None, "tests-failed", f"output tail:\n{tail}" if tail else head, "high"))
    return result("tests", findings, note)
