"""Test reports read from the runner's own report: JUnit XML from pytest, JSON from unittest through our
runner script, exit code only for anything else; and the test run's process group dies on timeout."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import anyio
import pytest

from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.run.gate.results import (
    TestReport,
    detect_runner,
    parse_junit,
    parse_unittest_json,
    prepare_command,
    read_report,
)

PY = sys.executable

JUNIT_NESTED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="all">
  <testsuite name="unit" tests="4" failures="1" errors="1" skipped="1" time="0.2">
    <testcase classname="tests.test_calc" name="test_add" time="0.01"/>
    <testcase classname="tests.test_calc" name="test_mul" time="0.01">
      <failure message="assert 5 == 6">def test_mul():
&gt;       assert mul(2, 3) == 6
E       assert 5 == 6

tests/test_calc.py:9: AssertionError</failure>
    </testcase>
    <testcase classname="tests.test_calc" name="test_db" time="0.01">
      <error message="failed on setup with &quot;ConnectionError: refused&quot;">fixture 'db' failed
ConnectionError: refused</error>
    </testcase>
    <testcase classname="tests.test_calc" name="test_later" time="0.0">
      <skipped type="pytest.skip" message="not yet">tests/test_calc.py:20: not yet</skipped>
    </testcase>
  </testsuite>
  <testsuite name="more" tests="2" failures="0" errors="0" skipped="0">
    <testsuite name="inner" tests="2" failures="1" errors="0" skipped="0">
      <testcase classname="tests.test_io.TestRead" name="test_read[utf-8]"/>
      <testcase classname="tests.test_io.TestRead" name="test_read[latin-1]">
        <failure message="UnicodeDecodeError: bad byte"/>
      </testcase>
    </testsuite>
  </testsuite>
</testsuites>
"""


def run(command: list[str], cwd: Path, timeout_s: float = 60) -> TestOutcome:
    async def main() -> TestOutcome:
        return await run_tests(command, cwd, timeout_s)

    return anyio.run(main)


@pytest.fixture
def scratch_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private system temp directory, to see that every run cleans up after itself."""
    scratch = tmp_path / "systemtmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


# --------------------------------------------------------------------------- parsing


def test_junit_nested_suites_counts_and_failures() -> None:
    report = parse_junit(JUNIT_NESTED)
    # Counts come from the innermost suites: "more" only wraps "inner".
    assert (report.total, report.failed, report.errors, report.skipped, report.passed) == (6, 2, 1, 1, 2)
    names = [(f.kind, f.name) for f in report.failures]
    assert names == [
        ("failed", "tests.test_calc.test_mul"),
        ("error", "tests.test_calc.test_db"),
        ("failed", "tests.test_io.TestRead.test_read[latin-1]"),
    ]
    mul = report.failures[0]
    assert mul.message == "assert 5 == 6"
    assert "tests/test_calc.py:9: AssertionError" in mul.detail
    assert report.failures[1].message == 'failed on setup with "ConnectionError: refused"'


def test_junit_single_suite_without_counts_is_counted_from_its_cases() -> None:
    xml = """<testsuite name="x">
      <testcase name="a"/><testcase name="b"><skipped/></testcase>
      <testcase classname="k" name="c"><failure>Traceback...
AssertionError: boom</failure></testcase>
    </testsuite>"""
    report = parse_junit(xml)
    assert (report.total, report.failed, report.errors, report.skipped, report.passed) == (3, 1, 0, 1, 1)
    assert report.failures[0].name == "k.c"
    assert report.failures[0].message == "AssertionError: boom"  # no message attribute: the text's last line
    assert report.passing == ("a",)  # neither failed nor skipped: what a baseline compares per test


def test_unittest_json_report() -> None:
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/p/tests/test_calc.py", line 9, in test_mul\n'
        "    self.assertEqual(mul(2, 3), 6)\n"
        "AssertionError: 5 != 6\n"
    )
    data = {
        "tests_run": 5,
        "failures": [{"id": "tests.test_calc.MulTests.test_mul", "text": traceback}],
        "errors": [{"id": "tests.test_calc.DbTests.test_db", "text": "Traceback...\nOSError: refused\n"}],
        "skipped": [{"id": "tests.test_calc.T.test_s", "reason": "later"}],
        "expected_failures": 0,
        "unexpected_successes": [],
    }
    report = parse_unittest_json(data)
    assert (report.total, report.failed, report.errors, report.skipped, report.passed) == (5, 1, 1, 1, 2)
    assert report.failures[0].message == "AssertionError: 5 != 6"
    assert report.failures[1].kind == "error" and report.failures[1].message == "OSError: refused"


def test_describe_leads_with_counts_and_caps_the_list() -> None:
    from autodev.run.gate.results import FailedTest

    failures = [FailedTest(f"t.test_{i}", "x" * 1000, detail="trace\n" * 500) for i in range(40)]
    report = TestReport("pytest", 0, 40, 0, 0, 40, failures)
    text = report.describe()
    assert text.splitlines()[0] == "pytest: 40 failed, 0 errors, 0 passed, 0 skipped (40 tests)"
    assert "- FAILED t.test_0: " in text
    assert "more failing tests not listed" in text
    assert len(text) <= 8200


@pytest.mark.parametrize(
    ("command", "runner"),
    [
        ([PY, "-m", "pytest", "-q"], "pytest"),
        (["pytest", "-x"], "pytest"),
        (["/usr/local/bin/pytest"], "pytest"),
        (["uv", "run", "pytest"], "pytest"),
        ([PY, "-m", "coverage", "run", "-m", "pytest"], "pytest"),
        ([PY, "-m", "unittest", "discover", "-s", "tests"], "unittest"),
        (["make", "test"], "unknown"),
        (["tox", "-e", "py311"], "unknown"),
        ([PY, "-m", "unittest_helpers"], "unknown"),
    ],
)
def test_detect_runner(command: list[str], runner: str) -> None:
    assert detect_runner(command) == runner


def test_prepare_command(tmp_path: Path) -> None:
    pytest_cmd = prepare_command([PY, "-m", "pytest", "-q"], tmp_path)
    assert pytest_cmd.argv == [
        PY,
        "-m",
        "pytest",
        "-q",
        f"--junitxml={tmp_path / 'junit.xml'}",
        "-p",
        "no:cacheprovider",
    ]
    own = prepare_command(["pytest", "--junitxml=out.xml"], tmp_path)
    assert own.argv[-3] == f"--junitxml={tmp_path / 'junit.xml'}"  # ours comes last and wins
    unit = prepare_command([PY, "-W", "error", "-m", "unittest", "discover", "-q"], tmp_path)
    assert unit.argv == [PY, "-W", "error", str(tmp_path / "autodev_unittest_runner.py"), "discover", "-q"]
    assert (tmp_path / "autodev_unittest_runner.py").is_file()
    other = prepare_command(["make", "test"], tmp_path)
    assert other.argv == ["make", "test"] and other.runner == "unknown"
    assert "exit code" in (read_report(other, "ok").note or "")


# --------------------------------------------------------------------------- real runs

FAILING_PROJECT = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a + b\n",
    "tests/__init__.py": "",
}
PYTEST_TESTS = """\
from calc import add, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(2, 3) == 6
"""
UNITTEST_TESTS = """\
import unittest

from calc import add, mul


class CalcTests(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_mul(self):
        self.assertEqual(mul(2, 3), 6)

    @unittest.skip("later")
    def test_div(self):
        pass
"""


def test_real_pytest_run(tmp_path: Path, scratch_tmp: Path) -> None:
    repo = project(tmp_path / "repo", {**FAILING_PROJECT, "tests/test_calc.py": PYTEST_TESTS})
    outcome = run([PY, "-m", "pytest", "-q"], repo)

    assert not outcome.passed and outcome.exit_code == 1
    report = outcome.report
    assert report is not None and report.runner == "pytest"
    assert (report.total, report.passed, report.failed, report.errors, report.skipped) == (2, 1, 1, 0, 0)
    [failure] = report.failures
    assert failure.name == "tests.test_calc.test_mul"
    assert report.passing == ("tests.test_calc.test_add",)
    assert "assert 5 == 6" in failure.message
    summary = outcome.summary()
    lines = summary.splitlines()
    assert lines[0].startswith("Tests FAILED (exit 1")
    assert lines[1] == "pytest: 1 failed, 0 errors, 1 passed, 0 skipped (2 tests)"
    assert "- FAILED tests.test_calc.test_mul: " in summary
    assert summary.index("Output") > summary.index("FAILED tests.test_calc.test_mul")
    assert outcome.command == (PY, "-m", "pytest", "-q")  # as configured, not our added options
    assert not (repo / ".pytest_cache").exists()
    assert list(scratch_tmp.iterdir()) == []  # the report's temporary directory is gone


def test_real_pytest_run_without_tests_is_no_tests_never_passed(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", {"tests/__init__.py": ""})
    outcome = run([PY, "-m", "pytest", "-q"], repo)
    assert not outcome.passed and outcome.no_tests and outcome.exit_code == 5  # issue 17: exit 5 is not a pass
    assert outcome.report is not None and outcome.report.total == 0
    assert outcome.summary().startswith("Tests NO TESTS RAN (not a pass)")


def test_real_unittest_run(tmp_path: Path, scratch_tmp: Path) -> None:
    repo = project(tmp_path / "repo", {**FAILING_PROJECT, "tests/test_calc.py": UNITTEST_TESTS})
    outcome = run([PY, "-m", "unittest", "discover", "-s", "tests", "-t", "."], repo)

    assert not outcome.passed and outcome.exit_code == 1
    report = outcome.report
    assert report is not None and report.runner == "unittest"
    assert (report.total, report.passed, report.failed, report.errors, report.skipped) == (3, 1, 1, 0, 1)
    [failure] = report.failures
    assert failure.name == "tests.test_calc.CalcTests.test_mul"
    assert failure.message == "AssertionError: 5 != 6"
    # unittest's own output is unchanged, so what the implementer saw before is still there.
    assert "FAIL: test_mul" in outcome.output and "Ran 3 tests" in outcome.output
    assert "- FAILED tests.test_calc.CalcTests.test_mul: AssertionError: 5 != 6" in outcome.summary()
    assert list(scratch_tmp.iterdir()) == []


def test_real_unittest_run_passing_and_empty(tmp_path: Path) -> None:
    passing = {
        "calc.py": "def add(a, b):\n    return a + b\n",
        "tests/__init__.py": "",
        "tests/test_ok.py": PYTEST_TESTS,
    }
    passing["tests/test_ok.py"] = (
        "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n"
    )
    repo = project(tmp_path / "ok", passing)
    outcome = run([PY, "-m", "unittest", "discover", "-s", "tests", "-t", "."], repo)
    assert outcome.passed and outcome.report is not None and outcome.report.passed == 1
    assert outcome.report.passing == ("tests.test_ok.T.test_ok",)  # a baseline compares the passing ids

    empty = project(tmp_path / "empty", {"tests/__init__.py": ""})
    outcome = run([PY, "-m", "unittest", "discover", "-s", "tests"], empty)
    assert not outcome.passed and outcome.no_tests and outcome.exit_code == 5
    assert outcome.report is not None and outcome.report.total == 0


def test_unknown_runner_falls_back_to_the_exit_code(tmp_path: Path) -> None:
    failing = run([PY, "-c", "print('3 tests, 1 failed'); raise SystemExit(2)"], tmp_path)
    assert not failing.passed and failing.exit_code == 2
    assert failing.report is not None and failing.report.runner == "unknown"
    assert failing.report.total is None and failing.report.failed is None
    assert "exit code" in failing.summary() and "3 tests, 1 failed" in failing.summary()

    passing = run([PY, "-c", "print('fine')"], tmp_path)
    assert passing.passed and passing.report is not None and passing.report.total is None


def test_a_command_that_cannot_start(tmp_path: Path) -> None:
    outcome = run([str(tmp_path / "no-such-runner")], tmp_path)
    assert not outcome.passed and "could not start" in outcome.output


def test_huge_output_is_capped(tmp_path: Path) -> None:
    outcome = run([PY, "-c", "import sys; sys.stdout.write('x' * 20_000_000 + '\\nEND')"], tmp_path)
    assert outcome.passed
    assert len(outcome.output) < 45_000
    assert outcome.output.endswith("END")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie nobody has reaped yet is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


HANG_TIMEOUT_S = 10


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_a_hanging_test_is_killed_with_its_children(tmp_path: Path, scratch_tmp: Path) -> None:
    pid_file = tmp_path / "child.pid"
    hanging = f"""\
        import subprocess, sys, time
        from pathlib import Path


        def test_hangs():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            Path({str(pid_file)!r}).write_text(str(child.pid))
            print("started", flush=True)
            time.sleep(600)
        """
    repo = project(tmp_path / "repo", {"tests/test_hang.py": hanging})
    started = time.perf_counter()
    # long enough for pytest to start and spawn the child on a busy machine; the test below waits it out
    outcome = run([PY, "-m", "pytest", "-q", "-s"], repo, timeout_s=HANG_TIMEOUT_S)

    assert time.perf_counter() - started < 300  # not the 600 s the test sleeps
    assert outcome.timed_out and not outcome.passed and outcome.exit_code is None
    assert outcome.output.startswith(f"timed out after {HANG_TIMEOUT_S:g}s")
    assert outcome.summary().startswith("Tests TIMED OUT")
    assert outcome.report is not None and "timed out" in (outcome.report.note or "")
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 60  # a bound only a surviving child reaches
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
    assert list(scratch_tmp.iterdir()) == []
