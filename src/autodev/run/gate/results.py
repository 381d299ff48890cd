"""What a test run found, read from the runner's own report rather than scraped from its output.

- **pytest** (`-m pytest`, or a `pytest` executable, also behind `uv run`, `coverage run -m` ...): the
  command gets `--junitxml=<temp file>` (and `-p no:cacheprovider`, so the worktree stays clean), and
  the JUnit XML gives the counts and each failing test's message and traceback.
- **unittest** (`-m unittest`): it writes no report file, so `-m unittest` is swapped for a small
  runner script written to a temporary directory outside the worktree. The script is
  `python -m unittest` with the same arguments and the same output (it calls `unittest.main` the way
  `-m unittest` does), and also writes the `TestResult` as JSON. The project never needs autodev
  installed.
- **node's test runner** (`node --test`, or `npm test`/`pnpm test` whose script is `node --test ...`):
  `NODE_OPTIONS` adds a JUnit reporter writing to the temporary directory beside the usual one.
- **anything else** (`make test`, `tox`, `cargo test`, `go test`, jest): there is no report to read; pass or fail
  comes from the exit code alone, the counts stay `None`, and the report says so.

Every temporary file lives in a directory the caller owns and removes (`tempfile.TemporaryDirectory`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree  # nosec B405: see parse_junit
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Runner = Literal["pytest", "unittest", "node", "unknown"]

REPORT_ENV = "AUTODEV_UNITTEST_REPORT"
MAX_REPORT_BYTES = 50_000_000
MESSAGE_CHARS = 400
DETAIL_CHARS = 1500
LISTED_FAILURES = 20
DETAILED_FAILURES = 5
RAW_TAIL_CHARS = 2000

_PYTEST_NAMES = frozenset({"pytest", "py.test", "pytest.exe", "py.test.exe"})

UNITTEST_RUNNER = '''\
"""autodev's unittest runner: `python -m unittest ARGS`, plus the TestResult as JSON in $__REPORT_ENV__."""

import json
import os
import sys
import unittest


def _entries(pairs):
    return [{"id": test.id(), "text": text} for test, text in pairs]


class _RecordingResult(unittest.TextTestResult):
    """The usual result, also keeping the ids of the tests that passed (a baseline compares them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed_ids = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed_ids.append(test.id())


class _Runner(unittest.TextTestRunner):
    resultclass = _RecordingResult


def main():
    report = os.environ.pop("__REPORT_ENV__", None)
    sys.path[0] = os.getcwd()  # as `python -m unittest` has it, instead of this script's directory
    argv = [sys.executable + " -m unittest", *sys.argv[1:]]
    program = unittest.main(module=None, argv=argv, exit=False, testRunner=_Runner)
    result = program.result
    if report:
        data = {
            "tests_run": result.testsRun,
            "failures": _entries(result.failures),
            "errors": _entries(result.errors),
            "skipped": [{"id": test.id(), "reason": reason} for test, reason in result.skipped],
            "expected_failures": len(result.expectedFailures),
            "unexpected_successes": [test.id() for test in result.unexpectedSuccesses],
            "passed": list(getattr(result, "passed_ids", [])),
        }
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
    if result.testsRun == 0 and not result.skipped:
        return 5  # no tests ran: the code pytest uses, and unittest since Python 3.12
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
'''.replace("__REPORT_ENV__", REPORT_ENV)


@dataclass(frozen=True)
class FailedTest:
    name: str
    message: str
    kind: Literal["failed", "error"] = "failed"
    detail: str = ""  # the traceback's end, trimmed


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest test class

    runner: Runner
    passed: int | None = None
    failed: int | None = None
    errors: int | None = None
    skipped: int | None = None
    total: int | None = None
    failures: list[FailedTest] = field(default_factory=list)
    raw_tail: str = ""
    note: str | None = None  # why there are no counts, when there are none
    passing: tuple[str, ...] = ()  # the ids of the tests that passed (a baseline compares them per test)

    @property
    def has_counts(self) -> bool:
        return self.total is not None

    def counts_line(self) -> str:
        if not self.has_counts:
            return f"No test counts: {self.note or 'no report'}"
        return (
            f"{self.runner}: {self.failed} failed, {self.errors} errors, {self.passed} passed, "
            f"{self.skipped} skipped ({self.total} tests)"
        )

    def describe(self, budget: int = 8000) -> str:
        """The counts, then the failing tests' names and messages (the first few with their traceback)."""
        lines = [self.counts_line()]
        if self.note and self.has_counts:
            lines.append(self.note)
        if self.failures:
            lines.append(f"Failing tests ({len(self.failures)}):")
        used = sum(len(line) + 1 for line in lines)
        for index, failure in enumerate(self.failures[:LISTED_FAILURES]):
            label = "ERROR" if failure.kind == "error" else "FAILED"
            message = _trim_line(failure.message, MESSAGE_CHARS).replace("\n", "\n    ")
            entry = f"- {label} {failure.name}: {message}"
            if index < DETAILED_FAILURES and failure.detail:
                entry += "\n" + _indent(_tail(failure.detail, DETAIL_CHARS))
            if used + len(entry) > budget:
                entry = f"- {label} {failure.name}"
                if used + len(entry) > budget:
                    lines.append(f"[{len(self.failures) - index} more failing tests not listed]")
                    break
            lines.append(entry)
            used += len(entry) + 1
        else:
            if len(self.failures) > LISTED_FAILURES:
                lines.append(f"[{len(self.failures) - LISTED_FAILURES} more failing tests not listed]")
        return "\n".join(lines)


@dataclass(frozen=True)
class PreparedCommand:
    """The command as it will run, and where its report will be."""

    argv: list[str]
    runner: Runner
    report_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)


def _node_test_script(cwd: Path | None) -> bool:
    """Whether `cwd`'s package.json runs its tests with node's own runner (`"test": "node --test ..."`)."""
    if cwd is None:
        return False
    try:
        scripts = json.loads((cwd / "package.json").read_text(encoding="utf-8")).get("scripts") or {}
    except (OSError, ValueError, AttributeError):
        return False
    script = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(script, str) and script.strip().startswith("node --test")


def detect_runner(command: Sequence[str], cwd: Path | None = None) -> Runner:
    """The runner behind `command` (run in `cwd`, where a package.json may name it)."""
    if command and Path(command[0]).name == "node" and "--test" in command:
        return "node"
    if list(command[:2]) in (["npm", "test"], ["pnpm", "test"]) and _node_test_script(cwd):
        return "node"
    for index, arg in enumerate(command):
        if arg == "-m" and index + 1 < len(command):
            module = command[index + 1]
            if module in ("pytest", "py.test"):
                return "pytest"
            if module == "unittest":
                return "unittest"
        elif Path(arg).name in _PYTEST_NAMES:
            return "pytest"
    return "unknown"


def prepare_command(command: Sequence[str], scratch: Path, cwd: Path | None = None) -> PreparedCommand:
    """The command to run so that it leaves a report in `scratch` (a directory outside the worktree)."""
    runner = detect_runner(command, cwd)
    argv = list(command)
    if runner == "node":
        report = scratch / "junit.xml"
        spec = "--test-reporter=spec --test-reporter-destination=stdout"
        reporters = f"{spec} --test-reporter=junit --test-reporter-destination={report}"
        return PreparedCommand(argv, runner, report, {"NODE_OPTIONS": reporters})
    if runner == "pytest":
        report = scratch / "junit.xml"
        argv.append(f"--junitxml={report}")  # last wins: a --junitxml of the project's never lands in the worktree
        if "no:cacheprovider" not in argv and "-pno:cacheprovider" not in argv:
            argv += ["-p", "no:cacheprovider"]
        return PreparedCommand(argv, runner, report)
    if runner == "unittest":
        index = next(i for i, arg in enumerate(argv) if arg == "-m" and argv[i + 1 : i + 2] == ["unittest"])
        script = scratch / "autodev_unittest_runner.py"
        script.write_text(UNITTEST_RUNNER, encoding="utf-8")
        report = scratch / "unittest.json"
        argv[index : index + 2] = [str(script)]
        return PreparedCommand(argv, runner, report, {REPORT_ENV: str(report)})
    return PreparedCommand(argv, runner)


def read_report(prepared: PreparedCommand, output: str, *, timed_out: bool = False) -> TestReport:
    """The report the run left behind, or one that says why there is none."""
    tail = output[-RAW_TAIL_CHARS:]
    if prepared.runner == "unknown":
        note = "not a pytest or unittest command, so no report to read: pass or fail comes from the exit code"
        return TestReport("unknown", raw_tail=tail, note=note)
    path = prepared.report_path
    if path is None or not path.is_file():
        why = "the run timed out and was killed" if timed_out else "it may have crashed or been given bad arguments"
        return TestReport(prepared.runner, raw_tail=tail, note=f"{prepared.runner} wrote no report: {why}")
    if path.stat().st_size > MAX_REPORT_BYTES:
        return TestReport(prepared.runner, raw_tail=tail, note=f"the report is over {MAX_REPORT_BYTES} bytes; not read")
    try:
        if prepared.runner in ("pytest", "node"):
            report = parse_junit(path.read_text(encoding="utf-8", errors="replace"), runner=prepared.runner)
        else:
            report = parse_unittest_json(json.loads(path.read_text(encoding="utf-8")))
    except (ElementTree.ParseError, ValueError, KeyError, TypeError) as exc:
        return TestReport(prepared.runner, raw_tail=tail, note=f"the {prepared.runner} report could not be read: {exc}")
    return replace(report, raw_tail=tail)


# --------------------------------------------------------------------------- JUnit XML


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _case_name(case: ElementTree.Element) -> str:
    name, classname = case.get("name", "?"), case.get("classname", "")
    return f"{classname}.{name}" if classname else name


def _failure(case: ElementTree.Element, element: ElementTree.Element, kind: Literal["failed", "error"]) -> FailedTest:
    text = (element.text or "").strip()
    message = element.get("message") or (text.splitlines()[-1] if text else element.get("type") or kind)
    return FailedTest(_case_name(case), _trim_line(message, MESSAGE_CHARS), kind, _tail(text, DETAIL_CHARS))


def parse_junit(xml_text: str, runner: Runner = "pytest") -> TestReport:
    """Counts from the innermost `<testsuite>` elements' attributes (summed), failures from `<testcase>`s.

    The XML comes from the project's test run, written into our temporary directory. ElementTree never
    fetches external entities, and the expat bundled with Python 3.11+ refuses entity-expansion bombs;
    the file's size is capped before it is read.
    """
    root = ElementTree.fromstring(xml_text)  # nosec B314: see the docstring
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    leaves = [suite for suite in suites if suite.find("testsuite") is None]
    cases = list(root.iter("testcase"))
    failures: list[FailedTest] = []
    passing: list[str] = []
    counted = {"failed": 0, "error": 0, "skipped": 0}
    for case in cases:
        failure, error, skip = case.find("failure"), case.find("error"), case.find("skipped")
        if failure is None and error is None and skip is None:
            passing.append(_case_name(case))
        if failure is not None:
            failures.append(_failure(case, failure, "failed"))
            counted["failed"] += 1
        if error is not None:
            failures.append(_failure(case, error, "error"))
            counted["error"] += 1
        if skip is not None and failure is None and error is None:
            counted["skipped"] += 1
    attributes = [
        (_int(s.get("tests")), _int(s.get("failures")), _int(s.get("errors")), _int(s.get("skipped", s.get("skip"))))
        for s in leaves
    ]
    if leaves and all(a[0] is not None for a in attributes):
        total = sum(a[0] or 0 for a in attributes)
        failed = sum(a[1] or 0 for a in attributes)
        errors = sum(a[2] or 0 for a in attributes)
        skipped = sum(a[3] or 0 for a in attributes)
    else:
        total, failed, errors, skipped = len(cases), counted["failed"], counted["error"], counted["skipped"]
    passed = max(0, total - failed - errors - skipped)
    return TestReport(runner, passed, failed, errors, skipped, total, failures, passing=tuple(passing))


# --------------------------------------------------------------------------- unittest JSON


def _exception_message(traceback_text: str) -> str:
    """The exception line(s) at the end of a traceback: `AssertionError: 5 != 6`."""
    lines = traceback_text.rstrip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if line.startswith("  File ")), default=-1)
    if last_frame == -1:
        return next((line.strip() for line in reversed(lines) if line.strip()), "")
    index = last_frame + 1
    while index < len(lines) and lines[index].startswith(" "):
        index += 1  # the frame's source line and its ^^^ markers
    return "\n".join(lines[index:]).strip() or lines[-1].strip()


def parse_unittest_json(data: dict[str, Any]) -> TestReport:
    failures = [
        FailedTest(
            item["id"],
            _trim_line(_exception_message(item["text"]), MESSAGE_CHARS),
            "failed",
            _tail(item["text"], DETAIL_CHARS),
        )
        for item in data["failures"]
    ]
    failures += [
        FailedTest(
            item["id"],
            _trim_line(_exception_message(item["text"]), MESSAGE_CHARS),
            "error",
            _tail(item["text"], DETAIL_CHARS),
        )
        for item in data["errors"]
    ]
    failures += [
        FailedTest(test_id, "unexpected success: the test is marked expectedFailure but passed")
        for test_id in data.get("unexpected_successes", [])
    ]
    total = int(data["tests_run"])
    failed = len(data["failures"]) + len(data.get("unexpected_successes", []))
    errors = len(data["errors"])
    skipped = len(data["skipped"]) + int(data.get("expected_failures", 0))
    passed = max(0, total - failed - errors - skipped)
    passing = tuple(str(test_id) for test_id in data.get("passed", []))
    return TestReport("unittest", passed, failed, errors, skipped, total, failures, passing=passing)


# --------------------------------------------------------------------------- text helpers


def _trim_line(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
