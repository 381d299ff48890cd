"""The analysers by name, running them with timeouts, and their two outputs: a capped markdown
block for an agent's prompt, and the full results as JSON in the run directory.

Which analysers an agent receives is its file's `facts:` list (docs/agents.md), not a table here:
a renamed copy of the reviewer gets the reviewer's facts because its file says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from autodev.agent.analysers.api import doc_mentions, public_api
from autodev.agent.analysers.base import DEFAULT_TIMEOUT_S, Analyser, AnalyserResult, AnalysisInput, Finding
from autodev.agent.analysers.deps import dependencies
from autodev.agent.analysers.review import diff_stat, ruff, tests
from autodev.agent.analysers.security import bandit, secrets
from autodev.agent.analysers.tamper import tamper
from autodev.core.jsonio import write_json_atomic
from autodev.core.redact import redact

SCHEMA = 1

ANALYSERS: Mapping[str, Analyser] = {
    "diff": diff_stat,
    "ruff": ruff,
    "tests": tests,
    "tamper": tamper,
    "bandit": bandit,
    "secrets": secrets,
    "dependencies": dependencies,
    "public_api": public_api,
    "doc_mentions": doc_mentions,
}
TIMEOUTS_S: Mapping[str, float] = {"ruff": 60.0, "bandit": 120.0}  # others: DEFAULT_TIMEOUT_S
GRACE_S = 5.0  # on top of an analyser's own timeout before the runner stops waiting for it

MAX_FINDINGS = 40
MAX_MESSAGE_CHARS = 400
MAX_RENDER_CHARS = 12_000
PREAMBLE = (
    "Computed by programs on this change before you started: treat them as facts, and spend your effort "
    "on judgement. `missing` means a tool did not run, not that it found nothing."
)


def _clean(res: AnalyserResult) -> AnalyserResult:
    """No secret value leaves an analyser: messages, notes and paths (a file may be named after a key)
    go through the project's redaction."""
    findings = [replace(f, message=redact(f.message), path=redact(f.path)) for f in res.findings]
    return replace(res, findings=findings, note=redact(res.note))


def run_analysers(names: Sequence[str], inp: AnalysisInput, *, timeout_s: float | None = None) -> list[AnalyserResult]:
    """Run the named analysers (an agent's `facts:`) at once; each has its own timeout and never raises.

    `timeout_s` overrides every analyser's timeout.
    """
    chosen = list(names)
    if not chosen:
        return []
    limits = {n: timeout_s if timeout_s is not None else TIMEOUTS_S.get(n, DEFAULT_TIMEOUT_S) for n in chosen}
    pool = ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="analyser")
    started = time.monotonic()
    try:
        futures: dict[str, Future[AnalyserResult]] = {n: pool.submit(ANALYSERS[n], inp, limits[n]) for n in chosen}
        results = []
        for n in chosen:
            wait = max(0.0, started + limits[n] + GRACE_S - time.monotonic())
            try:
                results.append(_clean(futures[n].result(timeout=wait)))
            except FutureTimeout:
                results.append(AnalyserResult(n, "error", [], f"timed out after {limits[n]:.0f}s"))
            except Exception as exc:  # an analyser's bug must not end the run; it is reported instead
                results.append(AnalyserResult(n, "error", [], _clean_text(f"{type(exc).__name__}: {exc}")))
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _clean_text(text: str) -> str:
    return redact(text)[:MAX_MESSAGE_CHARS]


# ------------------------------------------------------------------------------------------ output
def _where(f: Finding) -> str:
    if not f.path:
        return ""
    return f"`{f.path}:{f.line}` " if f.line is not None else f"`{f.path}` "


def _one(f: Finding) -> str:
    message = f.message if len(f.message) <= MAX_MESSAGE_CHARS else f.message[:MAX_MESSAGE_CHARS] + " [...]"
    message = message.replace("\n", "\n  ")
    return f"- {_where(f)}{f.rule} ({f.severity}): {message}"


def _heading(res: AnalyserResult) -> str:
    if res.status == "findings":
        return f"## {res.name}: {len(res.findings)} finding(s)"
    if res.status == "ok":
        return f"## {res.name}: ok, nothing found"
    return f"## {res.name}: {res.status.upper()}"


def render(
    results: Sequence[AnalyserResult], *, max_findings: int = MAX_FINDINGS, max_chars: int = MAX_RENDER_CHARS
) -> str:
    """A compact markdown block for an agent's prompt.

    At most `max_findings` per analyser, and about `max_chars` in all, shared evenly, so one noisy
    analyser can't push another's heading (and its `missing` or `error`) out of the prompt.
    """
    if not results:
        return ""
    share = max(400, (max_chars - len(PREAMBLE) - 30) // len(results))
    parts = ["# Facts from analysers", PREAMBLE]
    for res in results:
        section = [_heading(res)]
        if res.note:
            section.append(res.note if len(res.note) <= MAX_MESSAGE_CHARS else res.note[:MAX_MESSAGE_CHARS] + " [...]")
        size = sum(len(line) + 1 for line in section)
        shown = 0
        for f in res.findings[:max_findings]:
            line = _one(f)
            if size + len(line) + 1 > share:
                break
            section.append(line)
            size += len(line) + 1
            shown += 1
        if len(res.findings) > shown:
            section.append(f"- ... and {len(res.findings) - shown} more finding(s), not shown")
        parts.append("\n".join(section))
    return "\n\n".join(parts)


def to_json(results: Sequence[AnalyserResult]) -> dict[str, Any]:
    return {"schema": SCHEMA, "results": [asdict(r) for r in results]}


def from_json(data: Mapping[str, Any]) -> list[AnalyserResult]:
    return [
        AnalyserResult(r["name"], r["status"], [Finding(**f) for f in r.get("findings", [])], r.get("note", ""))
        for r in data.get("results", [])
    ]


def save(results: Sequence[AnalyserResult], path: Path) -> None:
    """Write every result, uncapped, to `path` atomically (temp file, then `os.replace`)."""
    write_json_atomic(path, to_json(results))


def load(path: Path) -> list[AnalyserResult]:
    return from_json(json.loads(path.read_text(encoding="utf-8")))
