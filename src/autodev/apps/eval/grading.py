"""Grading: did the run's change make the hidden tests pass?

Grading never trusts the run's repository. It builds a fresh copy of the starting project, applies the
run's diff, puts back the files a test runner loads on its own (`conftest.py`, `sitecustomize.py`,
`pytest.ini`, the `__init__.py` of the hidden tests' directories) as they were at the start, copies
the hidden tests over (so a test the agents edited or added under the same name does not count), and
runs them by their file names, with the task's timeout, in an environment without API keys or tokens
(`autodev.run.gate.project_tests.run_tests`). The verdict comes from the runner's own report (JUnit XML for pytest,
the JSON shim for unittest): a task passes only when the report counts at least one test and every
counted test passed, and the run neither failed nor timed out. An exit code of 0 alone is not enough:
a suite that collected nothing exits "successfully" too.

What it cannot stop: the code under test runs in the test process, so code written to patch the test
framework from inside could still fool it. The hidden tests never reach the agents, so such code
would have to be written blind.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import anyio

from autodev.apps.eval.tasks import Task
from autodev.apps.eval.workspace import copy_files
from autodev.core.gitops import git_argv, git_env
from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.sandbox.jail import SandboxPolicy, jail_for

RUNNER_HOOKS = frozenset({"conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", ".pytest.ini"})
APPLY_TIMEOUT_S = 120
FAILING_LISTED = 20


@dataclass(frozen=True)
class Grade:
    passed: bool
    tests_passed: int
    tests_total: int | None
    timed_out: bool = False
    exit_code: int | None = None
    duration_s: float = 0.0
    command: tuple[str, ...] = ()
    note: str | None = None  # why the result is what it is, when the report alone does not say
    failing: tuple[str, ...] = ()
    reverted: tuple[str, ...] = ()  # runner hooks the change had added or edited, put back for grading
    summary: str = field(default="", repr=False)  # the runner's summary: what a second try is told

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["command"], data["failing"], data["reverted"] = list(self.command), list(self.failing), list(self.reverted)
        del data["summary"]
        return data


def _is_hook(rel: str, hidden_dirs: frozenset[str]) -> bool:
    path = PurePosixPath(rel)
    return path.name in RUNNER_HOOKS or (path.name == "__init__.py" and str(path.parent) in hidden_dirs)


def revert_hooks(task: Task, work: Path) -> tuple[str, ...]:
    """Put every runner hook in `work` back as it was in the starting project; return what changed."""
    hidden_dirs = frozenset(str(PurePosixPath(rel).parent) for rel in task.test_files)
    present = {
        path.relative_to(work).as_posix()
        for path in work.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(work).parts
    }
    reverted: list[str] = []
    for rel in sorted(present | set(task.start)):
        if not _is_hook(rel, hidden_dirs):
            continue
        target, original = work / rel, task.start.get(rel)
        if original is None:
            target.unlink()
            reverted.append(rel)
        elif not target.is_file() or target.read_bytes() != original.read_bytes():
            copy_files({rel: original}, work)
            reverted.append(rel)
    return tuple(reverted)


def _apply(work: Path, patch: bytes, scratch: Path) -> str | None:
    """Apply the run's diff in `work`; the reason it failed, or None."""
    subprocess.run(
        git_argv(["init", "--quiet"], work),
        cwd=work,
        env=git_env(),
        capture_output=True,
        timeout=APPLY_TIMEOUT_S,
        check=True,
    )
    if not patch.strip():
        return None
    patch_file = scratch / "run.diff"
    patch_file.write_bytes(patch)
    result = subprocess.run(
        git_argv(["apply", "--whitespace=nowarn", str(patch_file)], work),
        cwd=work,
        env=git_env(),
        capture_output=True,
        timeout=APPLY_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        return "the run's diff does not apply to the starting project: " + result.stderr.decode(errors="replace")
    return None


def unskip_tests(task: Task, work: Path) -> None:
    """Run every test, as the polyglot benchmark does: `xtest(` becomes `test(`, `@Disabled` goes."""
    for rel in task.test_files if task.unskip else ():
        path = work / rel
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern, replacement in task.unskip:
            text = re.sub(pattern, replacement, text)
        path.write_text(text, encoding="utf-8")


def harness_command(command: tuple[str, ...]) -> list[str]:
    """An eval task's runner: its `python` is the interpreter running the eval (its tasks are autodev's
    own suites, graded with the pytest autodev's test extra brings), unlike a project's gate."""
    return [sys.executable if command[0] in ("python", "python3") else command[0], *command[1:]]


def grade(task: Task, patch: bytes, scratch: Path, policy: SandboxPolicy | None = None) -> Grade:
    """Grade `patch` (a `git diff --binary` from the starting commit) in a fresh copy under `scratch`.

    The hidden tests run the model's code: in the jail `policy` asks for (default: bubblewrap), the
    copy its only writable place. Raises `UserError` when that jail can't be had."""
    work = scratch / "project"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_files(task.start, work)
    problem = _apply(work, patch, scratch)
    if problem is not None:
        return Grade(False, 0, None, note=problem.strip())
    shutil.rmtree(work / ".git")
    reverted = revert_hooks(task, work)
    copy_files(task.hidden, work)
    unskip_tests(task, work)
    runner = harness_command(task.test_command)
    command = [*runner, *task.test_files] if task.append_test_files else runner
    for rel, target in task.links:  # e.g. node_modules installed once beside the exercises
        if not (work / rel).exists():
            (work / rel).symlink_to(target, target_is_directory=True)
    jail = jail_for(policy or SandboxPolicy(), work, work, readable=[target for _, target in task.links])
    outcome = anyio.run(run_tests, command, work, task.timeout_s, jail)
    return _verdict(outcome, reverted, by_exit_code=task.format == "polyglot")


def _verdict(outcome: TestOutcome, reverted: tuple[str, ...], by_exit_code: bool = False) -> Grade:
    """The grade from the runner's report; `by_exit_code` (a polyglot language whose runner writes no
    report: cargo, go, jest, gradle, a cmake build) lets exit 0 pass, as Aider's harness counts it."""
    report = outcome.report
    counted = report is not None and report.has_counts
    total = report.total if report is not None and counted else None
    passed_tests = (report.passed or 0) if report is not None and counted else 0
    note = None
    if outcome.timed_out:
        note = "the hidden tests timed out; the test processes were killed"
    elif report is None or not counted:
        note = report.note if report is not None else "no report"
    elif not total:
        note = "no hidden test ran"
    all_passed = bool(total) and passed_tests == total
    if by_exit_code and report is not None and report.runner == "unknown":
        all_passed = not outcome.no_tests
        note = "no report from this runner: graded by its exit code, as the polyglot benchmark is"
    return Grade(
        passed=outcome.passed and all_passed,
        tests_passed=passed_tests,
        tests_total=total,
        timed_out=outcome.timed_out,
        exit_code=outcome.exit_code,
        duration_s=round(outcome.duration_s, 3),
        command=outcome.command,
        note=note,
        failing=tuple(f.name for f in (report.failures if report is not None else [])[:FAILING_LISTED]),
        reverted=reverted,
        summary=outcome.summary(),
    )
