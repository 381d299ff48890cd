"""The gate's verdict per test against the baseline (issue 17, item 4), on a real repository's diff."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from scripts import git

from autodev.agent.analysers.base import AnalysisInput
from autodev.agent.analysers.review import tests as analyse_tests
from autodev.run.gate.baseline import (
    BaselineTests,
    cache_key,
    fingerprint,
    read_cached,
    unusable_command,
    write_cached,
)
from autodev.run.gate.changed_tests import ChangedTests
from autodev.run.gate.project_tests import TestOutcome
from autodev.run.gate.results import FailedTest, TestReport
from autodev.run.gate.verdict import judge
from autodev.run.sections import GateTests
from autodev.sandbox.jail import Jail, SandboxPolicy

TESTS = (
    "import unittest\n"
    "\n"
    "\n"
    "class T(unittest.TestCase):\n"
    "    def test_old(self):\n"
    "        self.assertEqual(1, 2)\n"
    "\n"
    "    def test_keep(self):\n"
    "        pass\n"
    "\n"
    "    def test_gone(self):\n"
    "        pass\n"
)
OLD, KEEP, GONE = "tests.test_t.T.test_old", "tests.test_t.T.test_keep", "tests.test_t.T.test_gone"


def report(passing: Iterable[str], failing: Iterable[str] = (), skipped: int = 0) -> TestReport:
    passing, failing = tuple(passing), list(failing)
    failures = [FailedTest(name, "boom") for name in failing]
    total = len(passing) + len(failing) + skipped
    return TestReport("unittest", len(passing), len(failing), 0, skipped, total, failures, passing=passing)


def outcome(rep: TestReport | None, exit_code: int | None = 1, *, no_tests: bool = False) -> TestOutcome:
    passed = exit_code == 0 and not no_tests
    return TestOutcome(passed, exit_code, "", 0.1, ("python", "-m", "unittest"), report=rep, no_tests=no_tests)


def baseline(passing: Iterable[str], failing: Iterable[str], exit_code: int = 1) -> BaselineTests:
    counts = GateTests("unittest", 0, 0, 0, 0, 0)
    return BaselineTests("unittest", exit_code, frozenset(passing), frozenset(failing), counts, 0.1)


@pytest.fixture
def repo(make_repo: Any) -> tuple[Path, str]:
    path = make_repo({"tests/__init__.py": "", "tests/test_t.py": TESTS})
    return path, git(path, "rev-parse", "HEAD").strip()


def edit(path: Path, old: str, new: str) -> None:
    target = path / "tests" / "test_t.py"
    target.write_text(target.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_an_untouched_old_failure_is_preexisting_and_the_change_passes(repo: tuple[Path, str]) -> None:
    path, base = repo
    judged = judge(outcome(report([KEEP, GONE], [OLD])), baseline([KEEP, GONE], [OLD]), None, ChangedTests(path, base))
    assert judged.status == "passed" and judged.verdict.by == "baseline"
    assert judged.verdict.preexisting == [OLD] and judged.verdict.broken == []
    assert judged.summary().startswith("Tests PASSED against the baseline")


def test_an_old_failure_the_change_edited_is_the_changes_to_pass(repo: tuple[Path, str]) -> None:
    path, base = repo
    edit(path, "self.assertEqual(1, 2)", "self.assertEqual(1, 3)")
    judged = judge(outcome(report([KEEP, GONE], [OLD])), baseline([KEEP, GONE], [OLD]), None, ChangedTests(path, base))
    assert judged.status == "failed"
    assert judged.verdict.new_failing == [OLD] and judged.verdict.preexisting == []


def test_a_test_removed_by_the_change_is_noted_but_one_that_stopped_running_is_broken(repo: tuple[Path, str]) -> None:
    path, base = repo
    edit(path, "    def test_gone(self):\n        pass\n", "")
    changes = ChangedTests(path, base)
    assert changes.touch(GONE) == "removed" and changes.touch(KEEP) == "unchanged"
    removed = judge(outcome(report([KEEP], [OLD])), baseline([KEEP, GONE], [OLD]), None, changes)
    assert removed.status == "passed" and "Removed by this change (passed at the base): " + GONE in str(
        removed.verdict.note
    )
    skipped = judge(outcome(report([GONE], [OLD], skipped=1)), baseline([KEEP, GONE], [OLD]), None, changes)
    assert skipped.status == "failed" and skipped.verdict.broken == [KEEP]  # still there, but skipped now


def test_a_new_failing_test_fails_and_an_old_failure_that_passes_now_is_counted(repo: tuple[Path, str]) -> None:
    path, base = repo
    judged = judge(
        outcome(report([KEEP, GONE, OLD], ["tests.test_t.T.test_new"])),
        baseline([KEEP, GONE], [OLD]),
        None,
        ChangedTests(path, base),
    )
    assert judged.status == "failed" and judged.verdict.new_failing == ["tests.test_t.T.test_new"]
    assert judged.verdict.fixed == 1


def test_a_command_that_fails_without_a_failing_test_fails_when_it_passed_at_the_base(repo: tuple[Path, str]) -> None:
    path, base = repo
    judged = judge(
        outcome(report([KEEP, GONE, OLD]), 2), baseline([KEEP, GONE, OLD], [], 0), None, ChangedTests(path, base)
    )
    assert judged.status == "failed" and "exit 2" in str(judged.verdict.note)


def test_without_a_baseline_the_exit_code_decides_and_says_why(repo: tuple[Path, str]) -> None:
    path, base = repo
    why = unusable_command(["make", "test"])
    assert why is not None and unusable_command(["python", "-m", "pytest"]) is None
    judged = judge(outcome(report([KEEP], [OLD])), None, why, ChangedTests(path, base))
    assert judged.status == "failed" and judged.verdict.by == "exit_code"
    assert "Judged by the exit code alone: no per-test report from this runner" in judged.summary()
    nothing = judge(outcome(report([]), 5, no_tests=True), None, why, ChangedTests(path, base))
    assert nothing.status == "no_tests"
    assert nothing.summary().startswith("Tests NO TESTS RAN (not a pass)")
    # Against a baseline too: nothing collected now is never a pass.
    empty = judge(outcome(report([]), 5, no_tests=True), baseline([], []), None, ChangedTests(path, base))
    assert empty.status == "no_tests"


def test_the_reviewers_tests_fact_does_not_blame_preexisting_failures(repo: tuple[Path, str]) -> None:
    path, base = repo
    judged = judge(outcome(report([KEEP, GONE], [OLD])), baseline([KEEP, GONE], [OLD]), None, ChangedTests(path, base))
    tail = "\nFAILED tests/test_t.py::T::test_old - AssertionError: 1 != 2\n"
    fact = analyse_tests(AnalysisInput(path, base, (), "", tests=judged.summary() + tail), 10)
    assert fact.status == "ok" and "1 test(s) already failing at the base" in fact.note
    failed = judge(
        outcome(report([GONE], [OLD, KEEP])), baseline([KEEP, GONE], [OLD]), None, ChangedTests(path, base)
    ).summary()
    tail += "FAILED tests/test_t.py::T::test_keep - boom\n"
    fact = analyse_tests(AnalysisInput(path, base, (), "", tests=failed + tail), 10)
    assert [finding.message for finding in fact.findings] == ["T::test_keep: boom"]


def test_the_cache_key_follows_the_commit_the_command_and_the_environment(tmp_path: Path) -> None:
    jail = Jail("none", SandboxPolicy(mode="off"), tmp_path)
    command = ["python", "-m", "pytest", "-q"]
    key = cache_key(fingerprint("a" * 40, command, jail, tmp_path))
    assert key == cache_key(fingerprint("a" * 40, list(command), jail, tmp_path))  # stable
    assert key != cache_key(fingerprint("b" * 40, command, jail, tmp_path))
    assert key != cache_key(fingerprint("a" * 40, [*command, "-x"], jail, tmp_path))
    assert key != cache_key(fingerprint("a" * 40, command, jail, tmp_path, "uv (.venv): uv.lock"))
    networked = Jail("none", SandboxPolicy(mode="off", network=True), tmp_path)
    assert key != cache_key(fingerprint("a" * 40, command, networked, tmp_path))
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    assert key != cache_key(fingerprint("a" * 40, command, jail, tmp_path))  # a virtualenv in the checkout

    path = tmp_path / "cache" / f"{key}.json"
    tests = baseline([KEEP], [OLD])
    write_cached(path, key, {}, tests)
    assert read_cached(path, key) == tests
    assert read_cached(path, "other") is None  # another key's file is a miss
    path.write_text("{not json", encoding="utf-8")
    assert read_cached(path, key) is None  # a damaged file is a miss, not an error


def test_a_change_that_breaks_many_tests_lists_twenty_and_counts_the_rest(repo: tuple[Path, str]) -> None:
    path, base = repo
    many = [f"tests.test_t.T.test_{index:02}" for index in range(25)]
    judged = judge(outcome(report([], many)), baseline(many, []), None, ChangedTests(path, base))
    assert judged.status == "failed" and len(judged.verdict.broken) == 25
    assert "tests.test_t.T.test_19 [and 5 more]" in judged.summary()
    assert len(judged.verdict.to_json()["broken"]) == 20  # state.json keeps the first 20


def test_a_module_that_fails_to_import_is_changed_when_the_change_edited_it(repo: tuple[Path, str]) -> None:
    path, base = repo
    changes = ChangedTests(path, base)
    assert changes.touch("tests.test_t") == "unchanged"  # a collection error's id names the module
    edit(path, "    def test_keep(self):\n", "    def test_keep(self):\n        x = 1\n")
    changes = ChangedTests(path, base)
    assert changes.touch("tests.test_t") == "changed"
    assert changes.touch(KEEP) == "changed" and changes.touch(OLD) == "unchanged"
    assert changes.touch("tests.test_t.T.test_keep[param-1]") == "changed"  # parametrised ids
    assert changes.touch("elsewhere.test_x.test_y") == "unknown"
