"""The pull request's body, from the run's record alone: state.json, its metrics and the result's diff.

Sections, in the order a reviewer reads them: what changed and why (the planner's and implementer's
handoffs, the diff stat), tests (the gate's counts, against the baseline when the run recorded one,
and the test files the change added or edited), the review and security verdicts with their
findings, the agents that ran and were skipped, time and cost, and `Closes #N` for an issue.
Every handoff is cut to a readable size; the whole body is redacted before it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autodev import __version__
from autodev.agent.verdicts import parse_verdict
from autodev.core.redact import redact
from autodev.run.publish.commit_message import condensed, handoff, title_of
from autodev.run.report import AgentRow, RunReport
from autodev.run.sections import GateTests
from autodev.run.state import RunState

VERDICT_AGENTS = ("reviewer", "security-auditor")
BODY_CHARS = 60_000  # GitHub refuses bodies over 65,536 characters
TITLE_CHARS = 120
STAT_LINES = 100


@dataclass(frozen=True)
class ChangedTests:
    """Test files the result added and edited (paths relative to the repository)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def pr_title(state: RunState) -> str:
    """The issue's title when the run came from one, else the request's first line; redacted."""
    if state.issue is not None and state.issue.title:
        title = redact(state.issue.title).strip()
        return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 3].rstrip() + "..."
    return title_of(state)


def pr_body(state: RunState, report: RunReport, tests: ChangedTests) -> str:
    sections = [
        _what_changed(state),
        _tests(state, tests),
        _verdicts(state),
        _agents(state, report),
        _time_and_cost(state, report),
    ]
    footer = []
    if state.issue is not None and state.issue.number is not None:
        footer.append(f"Closes #{state.issue.number}")
    footer.append(
        f"<sub>Opened by autodev {__version__} from run `{state.run_id}` "
        f"(branch `{state.branch}`, base `{state.base_commit[:12]}`).</sub>"
    )
    body = redact("\n\n".join([*sections, "\n\n".join(footer)]).strip() + "\n")
    if len(body) > BODY_CHARS:  # keep the footer (`Closes #N`) whatever was cut
        tail = redact("\n\n".join(footer)) + "\n"
        kept = body[: BODY_CHARS - len(tail) - 40].rsplit("\n", 1)[0]
        body = kept + "\n\n[... cut to GitHub's size limit]\n\n" + tail
    return body


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def _what_changed(state: RunState) -> str:
    lines = ["## What changed and why", "", f"**Request:** {title_of(state)}"]
    for name, label in (("planner", "Plan"), ("implementer", "Implementation")):
        text = handoff(state, name)
        if text:
            lines += ["", f"**{label}** ({name}):", "", _quoted(condensed(text, lines=30, chars=3000))]
    if state.diff is not None:
        lines += ["", f"**Diff:** {state.diff.files} files, +{state.diff.insertions} -{state.diff.deletions}"]
        stat = state.diff.stat.rstrip("\n").splitlines()
        if len(stat) > STAT_LINES:  # the files changed most are not always first: keep the summary line
            stat = [*stat[: STAT_LINES - 2], f" ... {len(stat) - STAT_LINES + 1} more files", stat[-1]]
        if stat:
            lines += ["", "```", *stat, "```"]
    return "\n".join(lines)


def counts(tests: GateTests) -> str:
    shown = f"{tests.passed} passed, {tests.failed} failed"
    if tests.errors:
        shown += f", {tests.errors} errors"
    if tests.skipped:
        shown += f", {tests.skipped} skipped"
    return shown + f" ({tests.total} test{'' if tests.total == 1 else 's'}, {tests.runner})"


def _tests(state: RunState, files: ChangedTests) -> str:
    lines = ["## Tests", ""]
    gate = state.gate
    baseline: Any = getattr(state, "baseline", None)  # recorded by runs that judge against the base commit
    base_tests = getattr(baseline, "tests", None) if getattr(baseline, "status", None) == "recorded" else None
    if isinstance(base_tests, GateTests):
        lines.append(f"- Before (base `{state.base_commit[:12]}`): {counts(base_tests)}")
    if gate.status is None:
        lines.append("- The test gate did not run.")
    elif gate.status == "skipped":
        lines.append(f"- The test gate was skipped: {gate.reason or 'no reason given'}")
    else:
        after = counts(gate.tests) if gate.tests is not None else f"exit code {gate.exit_code}"
        prefix = "After" if isinstance(base_tests, GateTests) else "Test gate"
        runs = f", {gate.runs} runs" if (gate.runs or 0) > 1 else ""
        lines.append(f"- {prefix}: **{gate.status}**: {after}{runs}")
        if gate.command:
            lines.append(f"- Command: `{' '.join(gate.command)}`")
        lines += _judged(getattr(gate, "verdict", None))
    lines.append("- New test files: " + (", ".join(f"`{path}`" for path in files.added) or "none"))
    if files.changed:
        lines.append("- Edited test files: " + ", ".join(f"`{path}`" for path in files.changed))
    return "\n".join(lines)


def _judged(verdict: Any) -> list[str]:
    """The gate's per-test judgement against the baseline, when the run made one."""
    if verdict is None or getattr(verdict, "by", None) != "baseline":
        return []
    lines = []
    preexisting: Sequence[str] = getattr(verdict, "preexisting", ())
    if preexisting:
        lines.append(f"- Failing before this change too (not blamed): {', '.join(f'`{t}`' for t in preexisting)}")
    fixed = getattr(verdict, "fixed", 0)
    if fixed:
        lines.append(f"- Tests that failed before and pass now: {fixed}")
    return lines


def _verdicts(state: RunState) -> str:
    lines = ["## Review", ""]
    for name in VERDICT_AGENTS:
        agent = state.agents.get(name)
        if agent is None:
            continue
        if agent.status == "skipped":
            lines.append(f"- **{name}**: skipped ({agent.reason or 'no reason given'})")
            continue
        text = handoff(state, name)
        if text is None:
            lines.append(f"- **{name}**: {agent.status}{f' ({agent.reason})' if agent.reason else ''}")
            continue
        verdict = parse_verdict(text)
        lines.append(f"- **{name}**: {verdict.decision or 'no verdict'}")
        if verdict.findings:
            lines += ["", _quoted(condensed(verdict.findings, lines=25, chars=2500)), ""]
    if len(lines) == 2:
        lines.append("No review agent was in this run's pipeline.")
    return "\n".join(lines).rstrip()


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _money(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "unknown (a model has no price)"


def _agents(state: RunState, report: RunReport) -> str:
    rows = {row.agent: row for row in report.agents}
    lines = ["## Agents", "", "| agent | status | model | runs | time | cost |", "|---|---|---|---|---|---|"]
    skipped = []
    for name, agent in state.agents.items():
        row: AgentRow | None = rows.get(name)
        if agent.status == "skipped":
            skipped.append(f"- {name}: {agent.reason or 'no reason given'}")
            continue
        duration = _seconds(row.duration_s) if row is not None else "-"
        cost = (f"${row.cost_usd:.4f}" if row.cost_usd is not None else "n/a") if row is not None and row.runs else "-"
        lines.append(f"| {name} | {agent.status} | {agent.model or '-'} | {agent.runs} | {duration} | {cost} |")
    if skipped:
        lines += ["", "Skipped:", *skipped]
    return "\n".join(lines)


def _time_and_cost(state: RunState, report: RunReport) -> str:
    totals = report.totals
    cost = state.cost_usd if state.cost_usd is not None else totals.cost_usd
    return "\n".join(
        [
            "## Time and cost",
            "",
            f"- Wall time: {_seconds(report.wall_s)}; agent time {_seconds(totals.duration_s)}",
            f"- Model calls: {totals.calls}; tokens: {totals.input_tokens} in, {totals.output_tokens} out, "
            f"{totals.cache_read_tokens} read from cache",
            f"- Cost: {_money(cost)}",
        ]
    )
