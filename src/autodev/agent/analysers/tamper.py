"""Test tampering, for the reviewer: what happened to the tests after they were written.

The tests are the specification the implementer works to, so a change that makes them pass by
weakening them is the failure a reviewer must not miss. This analyser compares every test file as it
stood when the implementer started (`AnalysisInput.tests_at`: the last checkpoint before the first
agent with the gate role, or the base commit) with the worktree now, and reports, per test:

- a test file deleted, or a test function or class removed;
- fewer assertions (`assert`, `self.assert*`, `pytest.raises`, `expect(`) than before;
- a skip or xfail added (a decorator, `pytest.skip(...)`, `self.skipTest(...)`, `it.skip`, `xit`);
- an expected value changed: a literal in an assertion that is no longer there.

Python files are compared through their syntax trees, test by test; other test files by counting
lines. New tests are never findings: adding tests is what the implementer may do.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field

from autodev.agent.analysers.base import AnalyserResult, AnalysisInput, Finding, inside, is_test_path, result
from autodev.core.gitops import git

NAME = "tamper"
_SKIP_NAMES = frozenset({"skip", "skipif", "skipIf", "skipUnless", "xfail", "skipTest", "expectedFailure"})
_ASSERT_CALL = re.compile(r"^(assert\w*|fail\w*)$")
_TEXT_ASSERT = re.compile(r"\b(assert\w*|expect)\s*\(|^\s*assert\b")
_TEXT_SKIP = re.compile(r"\b(skip|skipif|xfail|xit|xdescribe|xtest)\b|\.(skip|todo)\s*\(")
_MAX_LITERALS_SHOWN = 3


@dataclass
class TestShape:
    """What one test (function, or a module's top level) asserts and skips."""

    line: int
    asserts: int = 0
    skips: int = 0
    literals: Counter[str] = field(default_factory=Counter)


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _literals(node: ast.AST) -> list[str]:
    """The largest literal expressions inside `node` (`-4`, `[1, 2]`, `"x"`), each once."""
    if isinstance(node, ast.Constant | ast.UnaryOp | ast.List | ast.Tuple | ast.Set | ast.Dict):
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        else:
            return [] if value is None else [repr(value)]
    return [literal for child in ast.iter_child_nodes(node) for literal in _literals(child)]


def _is_skip(node: ast.AST) -> bool:
    """`pytest.mark.skip`, `unittest.skip(...)`, `self.skipTest(...)`, a bare `xfail`: any mention counts."""
    if isinstance(node, ast.Attribute):
        return node.attr in _SKIP_NAMES
    return isinstance(node, ast.Name) and node.id in _SKIP_NAMES


def _shape(node: ast.AST, line: int, inherited: list[ast.expr]) -> TestShape:
    """Its assertions, skips (its decorators and body, and its classes' decorators) and asserted literals."""
    shape = TestShape(line, skips=sum(1 for d in inherited for sub in ast.walk(d) if _is_skip(sub)))
    for sub in ast.walk(node):
        if _is_skip(sub):
            shape.skips += 1
        elif isinstance(sub, ast.Assert):
            shape.asserts += 1
            shape.literals.update(_literals(sub.test))
        elif isinstance(sub, ast.Call) and (_ASSERT_CALL.match(name := _name_of(sub.func)) or name == "raises"):
            shape.asserts += 1
            for argument in sub.args:
                shape.literals.update(_literals(argument))
    return shape


def python_tests(text: str) -> dict[str, TestShape] | None:
    """`Class.test_name` -> its shape, for every test function and class in `text`; None if it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    tests: dict[str, TestShape] = {}

    def visit(body: list[ast.stmt], prefix: str, inherited: list[ast.expr]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                decorators = inherited + node.decorator_list
                name = f"{prefix}{node.name}"
                before = len(tests)
                visit(node.body, f"{name}.", decorators)
                if len(tests) > before:  # a class of tests, not a helper
                    tests[name] = _shape(ast.Module(body=[], type_ignores=[]), node.lineno, decorators)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                tests[f"{prefix}{node.name}"] = _shape(node, node.lineno, inherited)
            elif not prefix and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.skips += _shape(node, 0, []).skips  # `pytestmark = pytest.mark.skip`, `pytest.skip(...)`

    module = TestShape(1)
    visit(tree.body, "", [])
    tests["<module>"] = module
    return tests


def compare_python(path: str, old: str, new: str) -> list[Finding]:
    """The weakenings from `old` to `new` of one Python test file."""
    before, after = python_tests(old), python_tests(new)
    if before is None:
        return []
    if after is None:
        return [Finding(path, None, "tests-unparsable", "the test file no longer parses", "high")]
    findings = []
    for name, was in before.items():
        now = after.get(name)
        if now is None:
            findings.append(Finding(path, was.line, "test-removed", f"`{name}` was removed", "high"))
            continue
        if now.asserts < was.asserts:
            message = f"`{name}`: assertions removed ({was.asserts} before, {now.asserts} now)"
            findings.append(Finding(path, now.line, "assertions-removed", message, "high"))
        if now.skips > was.skips:
            findings.append(Finding(path, now.line, "skip-added", f"`{name}`: a skip or xfail was added", "high"))
        gone = sorted((was.literals - now.literals).elements())
        if gone and now.asserts >= was.asserts:
            added = sorted((now.literals - was.literals).elements())
            shown = ", ".join(gone[:_MAX_LITERALS_SHOWN])
            instead = f"; now {', '.join(added[:_MAX_LITERALS_SHOWN])}" if added else ""
            message = f"`{name}`: expected value(s) changed: {shown} no longer asserted{instead}"
            findings.append(Finding(path, now.line, "expected-changed", message, "medium"))
    return findings


def _count(text: str, pattern: re.Pattern[str]) -> int:
    return sum(1 for line in text.splitlines() if pattern.search(line))


def compare_text(path: str, old: str, new: str) -> list[Finding]:
    """A non-Python test file: fewer assertion lines, or more skip markers, than before."""
    findings = []
    asserts_before, asserts_now = _count(old, _TEXT_ASSERT), _count(new, _TEXT_ASSERT)
    if asserts_now < asserts_before:
        message = f"assertion lines removed ({asserts_before} before, {asserts_now} now)"
        findings.append(Finding(path, None, "assertions-removed", message, "high"))
    if _count(new, _TEXT_SKIP) > _count(old, _TEXT_SKIP):
        findings.append(Finding(path, None, "skip-added", "a skip marker was added", "high"))
    return findings


def _changed_tests(inp: AnalysisInput, since: str) -> list[tuple[str, str | None]]:
    """(old path, new path or None when deleted) of the test files changed since `since`."""
    tokens = git(["diff", "--cached", "-M", "--name-status", "-z", since], inp.worktree).stdout.split("\0")
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        letter = tokens[i][0]
        if letter in "RC":
            old, new, i = tokens[i + 1], tokens[i + 2], i + 3
        else:
            old = new = tokens[i + 1]
            i += 2
        if letter in "MRD" and is_test_path(old):
            out.append((old, None if letter == "D" else new))
    return out


def tamper(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    since = inp.tests_at or inp.base
    what = f"test files at {since[:12]} (when the implementer started) compared with now"
    findings: list[Finding] = []
    for old_path, new_path in _changed_tests(inp, since):
        old = git(["show", f"{since}:{old_path}"], inp.worktree, check=False).stdout
        if new_path is None:
            findings.append(Finding(old_path, None, "test-file-deleted", "the test file was deleted", "high"))
            continue
        file = inside(inp.worktree, new_path)
        if file is None:
            continue
        new = file.read_text(encoding="utf-8", errors="replace")
        compare = compare_python if old_path.endswith(".py") else compare_text
        findings.extend(compare(new_path, old, new))
    return result(NAME, findings, what)
