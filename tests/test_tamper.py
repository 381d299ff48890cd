"""The tamper analyser on real git repositories: tests weakened after they were written are facts for the reviewer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autodev.agent.analysers import analysis_input, render, run_analysers
from autodev.agent.analysers.tamper import compare_python, compare_text, python_tests

TESTS = """import pytest

from calc import mul


class MulTests:
    def test_mul(self):
        assert mul(2, 3) == 6
        assert mul(0, 5) == 0

    def test_negative(self):
        assert mul(-1, 4) == -4


def test_raises():
    with pytest.raises(TypeError):
        mul("a", None)
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose tests were committed by "the test-master": the checkpoint the analyser compares with."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text("def mul(a, b):\n    return a * b\n")
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    (repo / "tests" / "calc.test.js").write_text("it('muls', () => {\n  expect(mul(2, 3)).toBe(6);\n});\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "base", "--allow-empty")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "tests written")
    return repo


def facts(repo: Path) -> list[tuple[str, str]]:
    checkpoint = git(repo, "rev-parse", "HEAD").strip()
    base = git(repo, "rev-parse", "HEAD~1").strip()
    (result,) = run_analysers(["tamper"], analysis_input(repo, base, tests_at=checkpoint))
    return [(f.rule, f.message) for f in result.findings]


def edit(repo: Path, old: str, new: str, path: str = "tests/test_calc.py") -> None:
    file = repo / path
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new))


def test_an_untouched_or_extended_suite_has_no_findings(repo: Path) -> None:
    edit(repo, "def test_raises():", "def test_more():\n    assert mul(3, 3) == 9\n\n\ndef test_raises():")
    (repo / "calc.py").write_text("def mul(a, b):\n    return b * a\n")
    assert facts(repo) == []


@pytest.mark.parametrize(
    ("old", "new", "rule", "words"),
    [
        (
            "        assert mul(0, 5) == 0\n",
            "",
            "assertions-removed",
            "`MulTests.test_mul`: assertions removed (2 before",
        ),
        (
            "    def test_negative",
            "    @pytest.mark.skip\n    def test_negative",
            "skip-added",
            "`MulTests.test_negative`",
        ),
        ("def test_raises", "@pytest.mark.xfail\ndef test_raises", "skip-added", "`test_raises`"),
        ("mul(-1, 4) == -4", "mul(-1, 4) == 4", "expected-changed", "-4 no longer asserted; now 4"),
        (
            "    def test_negative(self):\n        assert mul(-1, 4) == -4\n",
            "",
            "test-removed",
            "`MulTests.test_negative`",
        ),
    ],
)
def test_a_weakened_test_is_a_fact(repo: Path, old: str, new: str, rule: str, words: str) -> None:
    edit(repo, old, new)
    found = facts(repo)
    assert [r for r, _ in found] == [rule], found
    assert words in found[0][1]


def test_a_deleted_test_file_and_a_weakened_js_test(repo: Path) -> None:
    (repo / "tests" / "test_calc.py").unlink()
    edit(repo, "it('muls'", "it.skip('muls'", "tests/calc.test.js")
    edit(repo, "  expect(mul(2, 3)).toBe(6);\n", "", "tests/calc.test.js")
    assert sorted(rule for rule, _ in facts(repo)) == ["assertions-removed", "skip-added", "test-file-deleted"]


def test_the_reviewer_reads_the_fact_under_its_heading(repo: Path) -> None:
    edit(repo, "        assert mul(0, 5) == 0\n", "")
    checkpoint = git(repo, "rev-parse", "HEAD").strip()
    text = render(run_analysers(["tamper"], analysis_input(repo, checkpoint, tests_at=checkpoint)))
    assert "## tamper: 1 finding(s)" in text and "assertions-removed (high)" in text


def test_module_level_skips_and_unittest_helpers_count() -> None:
    shapes = python_tests(
        "import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(f(), 1)\n"
    )
    assert shapes is not None and shapes["T.test_a"].asserts == 1
    weakened = "import pytest\npytestmark = pytest.mark.skip\n" + TESTS
    assert [f.rule for f in compare_python("t.py", TESTS, weakened)] == ["skip-added"]
    assert [f.rule for f in compare_python("t.py", TESTS, "def broken(:\n")] == ["tests-unparsable"]
    assert compare_text("a.test.js", "expect(1).toBe(1)\n", "expect(1).toBe(1)\nexpect(2).toBe(2)\n") == []
