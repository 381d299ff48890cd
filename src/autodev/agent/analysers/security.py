"""The security-auditor's scanners: bandit on the changed Python files and a secret scan of the added lines.

(Dependency-manifest changes, the third, live in `deps.py`.) The secret scan uses the same documented
pattern list as redaction, and no finding ever carries a secret's value.
"""

from __future__ import annotations

import bisect
import json
import subprocess
from typing import Any

from autodev.agent.analysers.base import (
    AnalyserResult,
    AnalysisInput,
    Finding,
    Severity,
    added_lines,
    capped_files,
    is_test_path,
    missing,
    python_files,
    python_module,
    result,
    run_program,
    unavailable,
    untouched_last,
)
from autodev.core.redact import find_secrets

# ------------------------------------------------------------------------------------------ bandit
SEVERITIES: dict[str, Severity] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high"}
VALUE_BEARING = {"B105", "B106", "B107"}  # hard-coded password checks quote the password in their text
TEST_ONLY_NOISE = {"B101"}  # assert in tests


def bandit(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    files, capped = capped_files(python_files(inp))
    if not files:
        return AnalyserResult("bandit", "ok", [], "no changed Python files")
    absent = unavailable("bandit", "bandit", "pip install bandit (a dependency of autonomous-dev)")
    if absent:
        return absent
    argv = [*python_module("bandit"), "-f", "json", "-q", "--", *files]
    try:
        done = run_program(argv, inp.worktree, timeout_s, inp.jail)
    except subprocess.TimeoutExpired:
        return AnalyserResult("bandit", "error", [], f"bandit timed out after {timeout_s:.0f}s")
    except OSError as exc:
        return missing("bandit", f"could not start {argv[0]} -m bandit ({exc})", "pip install bandit")
    start = done.stdout.find("{")
    try:
        report: dict[str, Any] = json.loads(done.stdout[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        report = {}
    if done.returncode not in (0, 1) or "results" not in report:
        detail = (done.stderr.strip() or done.stdout.strip())[:300]
        return AnalyserResult("bandit", "error", [], f"bandit exited {done.returncode}: {detail}")
    findings = []
    for item in report["results"]:
        rule = str(item.get("test_id", "?"))
        path = str(item.get("filename", "")).removeprefix("./")
        if rule in TEST_ONLY_NOISE and is_test_path(path):
            continue
        text = str(item.get("issue_text", ""))
        if rule in VALUE_BEARING:
            text = text.split(":", 1)[0] + " (value withheld)"
        cwe = (item.get("issue_cwe") or {}).get("id")
        extra = f"{item.get('test_name', '')}, confidence {str(item.get('issue_confidence', '?')).lower()}"
        if cwe:
            extra += f", CWE-{cwe}"
        severity = SEVERITIES.get(str(item.get("issue_severity", "")).upper(), "medium")
        findings.append(Finding(path, item.get("line_number"), rule, f"{text} ({extra})", severity))
    notes = [f"bandit on {len(files)} changed Python file(s)"]
    notes += [capped] if capped else []
    notes += [f"could not scan {e.get('filename')}: {e.get('reason')}" for e in report.get("errors", [])]
    return result("bandit", untouched_last(findings, inp.diff), "; ".join(notes))


# ------------------------------------------------------------------------------------------ secrets
def secrets(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    """Secret-looking strings on the lines the diff adds; the finding names the kind and place, never the value."""
    findings = []
    added = added_lines(inp.diff)
    for path, lines in added.items():
        text = "\n".join(line for _, line in lines)
        starts = []
        offset = 0
        for _, line in lines:
            starts.append(offset)
            offset += len(line) + 1
        seen: set[tuple[int, str]] = set()
        for match in find_secrets(text):
            line_no = lines[bisect.bisect_right(starts, match.start) - 1][0]
            if (line_no, match.kind) in seen:
                continue
            seen.add((line_no, match.kind))
            findings.append(Finding(path, line_no, match.kind, f"possible {match.kind} added (value withheld)", "high"))
    note = f"added lines of {len(added)} file(s) scanned with the redaction patterns (autodev.core.redact)"
    return result("secrets", findings, note)
