"""The selection benchmark's figures, from one `Case` per commit (pure: no I/O).

Request level (the request classifier alone, before anything runs):
- the **conditional unsafe rate** (leading): of the requests sent down a fast path (docs, typo, config,
  deps), the share whose commit changed code. It answers the user's question: when autodev takes a fast
  path, how often was that wrong? Target <= 2 %.
- the unconditional unsafe rate: the same unsafe requests over all commits (it shrinks as the fast
  paths get rarer, so it flatters a timid classifier).
- the recall of no-code commits: of the commits that changed no code, the share that got a fast path
  (target >= 50 %); and the share that got their own class.
- per-class precision and recall, request class against diff class.

Outcome level (the whole selection, with the diff re-check after the implementer): a run is unsafe when
it would finish without the tests (the test writer and the test gate) although code changed, or
without the security audit and the gate although packaging changed. The re-check brings them back, so
this is 0 by construction; the benchmark shows it on every data set it is given.

"Changed code" is the record's `code_changed` when it has one (a syntax-tree comparison made when the
data was collected), else the diff classifier's verdict by path (feature).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from autodev.config.selection import CHANGE_TYPES, FAST_PATHS
from autodev.run.selection.diff import DiffClass
from autodev.run.selection.policy import SkipPolicy, recheck

TARGET_UNSAFE_RATE = 0.02  # of fast-path requests
TARGET_RECALL = 0.50  # of no-code commits
# The bundled feature pipeline, which the outcome level simulates: its validation agents and its test writer.
VALIDATION_AGENTS = ("reviewer", "security-auditor", "doc-master")
TEST_WRITER = "test-master"
AUDITOR = "security-auditor"


@dataclass(frozen=True)
class Case:
    request_class: str
    diff: DiffClass
    code_changed: bool

    @property
    def fast(self) -> bool:
        return self.request_class in FAST_PATHS

    @property
    def unsafe(self) -> bool:
        return self.fast and self.code_changed


@dataclass(frozen=True)
class Outcome:
    """What a run with the default policy ends with: which safeguards ran."""

    tests_written: bool
    gate_ran: bool
    audited: bool
    brought_back: tuple[str, ...]


def outcome(case: Case, policy: SkipPolicy) -> Outcome:
    skipped = {name: f"{case.request_class} change" for name in policy.skips_for(case.request_class)}
    result = recheck(
        before=case.request_class,
        mode="auto",
        policy=policy,
        diff=case.diff,
        skips=skipped,
        fixed=(),
        pending=(*VALIDATION_AGENTS, TEST_WRITER),
    )
    still = set(skipped) - set(result.unskip)
    return Outcome(TEST_WRITER not in still, result.run_gate, AUDITOR not in still, tuple(sorted(result.unskip)))


def outcome_unsafe(case: Case, ran: Outcome) -> bool:
    untested = case.code_changed and not (ran.tests_written and ran.gate_ran)
    unaudited = bool(case.diff.packaging_paths) and not (ran.audited and ran.gate_ran)
    return untested or unaudited


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def figures(cases: list[Case], policy: SkipPolicy | None = None) -> dict[str, Any]:
    policy = policy or SkipPolicy()
    confusion = {req: dict.fromkeys(CHANGE_TYPES, 0) for req in CHANGE_TYPES}
    for case in cases:
        confusion[case.request_class][case.diff.change_type] += 1
    total = len(cases)
    fast = [case for case in cases if case.fast]
    unsafe = sum(1 for case in fast if case.code_changed)
    no_code = [case for case in cases if not case.code_changed]
    got_fast = sum(1 for case in no_code if case.fast)
    got_own = sum(1 for case in no_code if case.request_class == case.diff.change_type)
    files_allow = sum(1 for case in no_code if case.diff.change_type in FAST_PATHS)
    per_class: dict[str, dict[str, float | int | None]] = {}
    for kind in CHANGE_TYPES:
        row = sum(confusion[kind].values())
        column = sum(confusion[req][kind] for req in CHANGE_TYPES)
        hit = confusion[kind][kind]
        per_class[kind] = {
            "requests": row,
            "commits": column,
            "precision": _ratio(hit, row),
            "recall": _ratio(hit, column),
        }
    outcomes = [(case, outcome(case, policy)) for case in cases]
    bad = sum(1 for case, ran in outcomes if outcome_unsafe(case, ran))
    conditional, recall = _ratio(unsafe, len(fast)), _ratio(got_fast, len(no_code))
    return {
        "records": total,
        "confusion": confusion,
        "request_classes": dict(Counter(case.request_class for case in cases)),
        "diff_classes": dict(Counter(case.diff.change_type for case in cases)),
        "fast_path_requests": len(fast),
        "unsafe": unsafe,
        "unsafe_rate_of_fast_paths": conditional,
        "unsafe_rate": _ratio(unsafe, total),
        "no_code_commits": len(no_code),
        "no_code_got_fast_path": got_fast,
        "fast_path_share": recall,
        "own_class_share": _ratio(got_own, len(no_code)),
        # what selection after the plan can reach at most: the no-code commits whose files are all prose,
        # configuration or packaging (a docstring-only .py change counts as code here, by its path)
        "no_code_fast_by_files_share": _ratio(files_allow, len(no_code)),
        "per_class": per_class,
        "outcome": {
            "unsafe": bad,
            "unsafe_rate": _ratio(bad, total),
            "code_changed": sum(1 for case in cases if case.code_changed),
            "packaging_changed": sum(1 for case in cases if case.diff.packaging_paths),
            "test_writer_brought_back": sum(1 for _, ran in outcomes if TEST_WRITER in ran.brought_back),
            "auditor_brought_back": sum(1 for _, ran in outcomes if AUDITOR in ran.brought_back),
        },
        "within_target": (conditional or 0.0) <= TARGET_UNSAFE_RATE and (recall or 0.0) >= TARGET_RECALL,
    }
