"""The gate's verdict on one test run: per test against the baseline, or (without one) by exit code.

Against the baseline, as SWE-bench judges a change:
- a test that passed at the base must still pass (failing, skipped or gone is `broken`, unless the
  change removed it: the diff shows that, and the reviewers judge it);
- a new test, or one the change edited, must pass (`new_failing` otherwise);
- a test that already failed at the base and the change did not touch is `preexisting`: listed in
  the summary and state.json, never blamed on the implementer, never a reason to send it back.

"No tests ran" (nothing collected, a report of 0 tests) is never a pass: it is its own status,
`no_tests`. The run goes on (there is nothing for the implementer to fix), and the summary the
reviewers' analysers read says so in its first line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from autodev.run.gate.baseline import BaselineTests
from autodev.run.gate.changed_tests import ChangedTests
from autodev.run.gate.project_tests import TestOutcome
from autodev.run.sections import GateVerdict

GateStatus = Literal["passed", "failed", "no_tests"]
LISTED = 20
NO_TESTS_LINE = "No tests ran: the test command collected no tests. This is NOT a pass: nothing checked the change."


@dataclass(frozen=True)
class Judged:
    """A test run and its verdict: what the gate records, the driver acts on and the agents read."""

    outcome: TestOutcome
    status: GateStatus
    verdict: GateVerdict

    def head(self) -> str:
        outcome = self.outcome
        if self.status == "no_tests":
            label = "NO TESTS RAN (not a pass)"
        elif self.status == "passed":
            label = "PASSED"
        else:
            label = "TIMED OUT" if outcome.timed_out else "FAILED"
        against = " against the baseline" if self.verdict.by == "baseline" else ""
        return (
            f"Tests {label}{against} (exit {outcome.exit_code}, {outcome.duration_s:.1f}s): {' '.join(outcome.command)}"
        )

    def explanation(self) -> list[str]:
        """What the verdict rests on, one line each, for the agents and the run's output."""
        verdict, lines = self.verdict, []
        if self.status == "no_tests":
            lines.append(NO_TESTS_LINE)
        if verdict.broken:
            lines.append(
                _names("Broken by this change (passed at the base, fail or no longer run now)", verdict.broken)
            )
        if verdict.new_failing:
            lines.append(_names("New or changed tests that fail", verdict.new_failing))
        if verdict.preexisting:
            lines.append(
                _names("Already failing at the base (not caused by this change; do not fix them)", verdict.preexisting)
            )
        if verdict.fixed:
            lines.append(f"{verdict.fixed} test(s) that failed at the base pass now.")
        if verdict.note:
            lines.append(verdict.note)
        return lines

    def summary(self, tail_chars: int = 6000) -> str:
        """The verdict's line and reasons first, then the run's counts, failing tests and output's end."""
        _, _, rest = self.outcome.summary(tail_chars).partition("\n")
        return "\n".join([self.head(), *self.explanation(), rest])

    def event_detail(self) -> str:
        """The one line the run's output shows."""
        detail = {"passed": "passed", "failed": "failed", "no_tests": "no tests ran (not a pass)"}[self.status]
        if self.verdict.preexisting:
            count = len(self.verdict.preexisting)
            detail += f"; {count} already failing at the base (not caused by this change)"
        return detail


def _names(label: str, names: Iterable[str]) -> str:
    listed = list(names)
    more = f" [and {len(listed) - LISTED} more]" if len(listed) > LISTED else ""
    return f"{label}: {', '.join(listed[:LISTED])}{more}"


def by_exit_code(outcome: TestOutcome, why: str | None) -> Judged:
    """The verdict without a baseline: the exit code (0 passes), and no tests ran is never a pass."""
    status: GateStatus = "no_tests" if outcome.no_tests else ("passed" if outcome.passed else "failed")
    note = f"Judged by the exit code alone: {why}" if why else None
    return Judged(outcome, status, GateVerdict(by="exit_code", note=note))


def judge(outcome: TestOutcome, baseline: BaselineTests | None, why_none: str | None, changes: ChangedTests) -> Judged:
    """The verdict on `outcome`: against `baseline` per test when both name their tests, else by exit code."""
    report = outcome.report
    if baseline is None:
        return by_exit_code(outcome, why_none or "there is no baseline")
    if outcome.timed_out or report is None or not report.has_counts:
        why = (report.note if report is not None else None) or "the run left no report"
        return by_exit_code(outcome, f"this run's report names no tests ({why})")
    failing = {failure.name for failure in report.failures}
    passing = set(report.passing)
    touch = {name: changes.touch(name) for name in failing & baseline.failing}
    preexisting = sorted(name for name, how in touch.items() if how != "changed")
    new_failing = sorted(failing - baseline.passing - set(preexisting))
    gone = baseline.passing - passing - failing
    removed = sorted(name for name in gone if changes.touch(name) == "removed")
    broken = sorted((failing & baseline.passing) | (gone - set(removed)))
    notes = []
    if removed:
        notes.append(_names("Removed by this change (passed at the base)", removed))
    silent_failure = (
        not broken and not new_failing and outcome.exit_code != 0 and baseline.exit_code == 0 and not outcome.no_tests
    )
    if silent_failure:
        notes.append(
            f"The test command failed (exit {outcome.exit_code}) with no failing test; at the base it exited 0."
        )
    status: GateStatus = "failed" if broken or new_failing or silent_failure else "passed"
    if status == "passed" and outcome.no_tests:
        status = "no_tests"
    verdict = GateVerdict(
        by="baseline",
        note=" ".join(notes) or None,
        preexisting=preexisting,
        broken=broken,
        new_failing=new_failing,
        fixed=len(baseline.failing & passing),
    )
    return Judged(outcome, status, verdict)
