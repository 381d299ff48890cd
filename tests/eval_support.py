"""Suites and saboteur models for the `autodev eval` tests.

A tiny native task (`calc`: add `mul(a, b)`) is copied under a different name per saboteur, and one
provider factory picks each task's model by its name, so a single eval exercises every way a model
can try to fool or break the harness. An Exercism-layout track is built here too, as the tests need
one and no clone is reachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autodev.apps.eval.models import (
    IMPLEMENTER,
    PolicyModel,
    PolicyProvider,
    Reply,
    Responder,
    handoff,
    is_first_turn,
    oracle_responder,
)
from autodev.apps.eval.tasks import Task
from autodev.models import Model, ModelRequest, ProviderError, TextPart, ToolResultPart

HIDDEN_MARKER = "HIDDEN-MARKER-7f3a"  # only in the hidden tests: must never reach an agent
CALC = '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n'
MUL = CALC + "\n\ndef mul(a, b):\n    return a * b\n"
WRONG_MUL = CALC + "\n\ndef mul(a, b):\n    return a + b\n"
SYNTAX_ERROR = CALC + "\n\ndef mul(a, b)\n    return a * b\n"
SLEEPY_MUL = CALC + "\n\ndef mul(a, b):\n    import time\n\n    time.sleep(600)\n    return a * b\n"
LOOPING_MUL = CALC + "\n\ndef mul(a, b):\n    while True:\n        pass\n"
VISIBLE_TEST = (
    "import unittest\n\nfrom calc import add\n\n\n"
    "class AddTests(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)
HIDDEN_TEST = f'''"""Acceptance tests for mul ({HIDDEN_MARKER})."""

import os
import unittest

from calc import mul


class MulTests(unittest.TestCase):
    def test_mul(self):
        self.assertEqual(mul(2, 3), 6)

    def test_mul_negative(self):
        self.assertEqual(mul(-2, 4), -8)

    def test_no_credentials_in_the_environment(self):
        leaked = [k for k in os.environ if any(m in k.upper() for m in ("API_KEY", "TOKEN", "SECRET"))]
        self.assertEqual(leaked, [])
'''
CALC_REQUEST = "Add a mul(a, b) function to calc/__init__.py that multiplies two numbers."
UNITTEST = "python -m unittest"
PYTEST = "python -m pytest -q"

# conftest.py that would turn every failing test into a pass, if grading let it load
CHEATING_CONFTEST = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
"""
FAKE_PASSING_TEST = "def test_mul():\n    assert True\n"


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_calc_task(
    suite: Path,
    name: str,
    *,
    test_command: str = UNITTEST,
    timeout_s: float = 30,
    request: str = CALC_REQUEST,
) -> Path:
    """A native task: calc with `add`; hidden tests for `mul`; the reference adds `mul`."""
    task = suite / name
    toml = f'request = "{request}"\ntest_command = "{test_command}"\ntimeout_s = {timeout_s}\n'
    write_tree(
        task,
        {
            "task.toml": toml,
            "repo/README.md": "# calc\n",
            "repo/calc/__init__.py": CALC,
            "repo/tests/__init__.py": "",
            "repo/tests/test_calc.py": VISIBLE_TEST,
            "repo/.autodev/config.toml": 'test_command = "python -m unittest discover -s tests -t ."\n',
            "tests/test_acceptance.py": HIDDEN_TEST,
            "solution/calc/__init__.py": MUL,
        },
    )
    return task


# ---------------------------------------------------------------- responders
def write(path: str, content: str) -> tuple[str, dict[str, Any]]:
    return ("Write", {"file_path": path, "content": content})


def implementer_writes(*files: tuple[str, dict[str, Any]]) -> Responder:
    """The implementer makes `files` once per invocation, then hands off; everyone else just hands off."""

    def respond(request: ModelRequest) -> Reply:
        if request.agent != IMPLEMENTER:
            return handoff(request.agent, "Nothing to add.")
        if is_first_turn(request):  # Read first, as Write will not overwrite a file the agent has not Read
            reads = tuple(("Read", {"file_path": args["file_path"], "limit": 1}) for _, args in files)
            return Reply("Writing.", reads + tuple(files))
        return handoff(request.agent, "- Done.")

    return respond


def tool_results(request: ModelRequest) -> str:
    return "\n".join(
        part.content for message in request.messages for part in message.parts if isinstance(part, ToolResultPart)
    )


def reads_hidden(hidden_file: Path) -> Responder:
    """Tries every way out of the worktree to the hidden tests, then writes down whatever it saw."""
    attempts = (
        ("Read", {"file_path": str(hidden_file)}),
        ("Read", {"file_path": "../../../" + hidden_file.name}),
        ("Bash", {"command": ["cat", str(hidden_file)]}),
        ("Grep", {"pattern": "HIDDEN", "path": str(hidden_file.parent)}),
        ("Glob", {"pattern": "**/test_acceptance.py"}),
    )

    def respond(request: ModelRequest) -> Reply:
        if request.agent != IMPLEMENTER:
            return handoff(request.agent, "Nothing to add.")
        seen = tool_results(request)
        if is_first_turn(request):
            return Reply("Looking for the tests.", attempts)
        if len(request.messages) == 3:  # the tools' answers are in: write down what they showed
            read = ("Read", {"file_path": "calc/__init__.py"})  # Write will not overwrite an unread file
            return Reply("Saving notes.", (write("leak.txt", seen), read, write("calc/__init__.py", WRONG_MUL)))
        return handoff(request.agent, "- Done.")

    return respond


def loops_forever(request: ModelRequest) -> Reply:
    """Never stops calling tools: the agent's max_turns has to end it."""
    if request.agent != IMPLEMENTER:
        return handoff(request.agent, "Nothing to add.")
    return Reply("Still looking.", (("Glob", {"pattern": "*"}),))


def fails_with(error: BaseException) -> Responder:
    def respond(request: ModelRequest) -> Reply:
        if request.agent == IMPLEMENTER:
            raise error
        return handoff(request.agent, "Nothing to add.")

    return respond


def right_on_second_try(request: ModelRequest) -> Reply:
    """Wrong at first; right once the request carries the hidden tests' failing output."""
    told = request.context + "".join(p.text for m in request.messages for p in m.parts if isinstance(p, TextPart))
    retry = "acceptance tests failed" in told
    return implementer_writes(write("calc/__init__.py", MUL if retry else WRONG_MUL))(request)


class FixedModelProvider(PolicyProvider):
    """Reports `reported` as the model that served every request: a model the price table lacks."""

    def __init__(self, respond: Responder, reported: str) -> None:
        super().__init__(respond, name="eval")
        self.reported = reported

    def model(self, model_id: str) -> Model:
        return PolicyModel(self.respond, self.reported, self.name)


SABOTEURS = (
    "honest",
    "syntax-error",
    "edits-tests",
    "reads-hidden",
    "sleeps",
    "loops-code",
    "loops-model",
    "provider-error",
    "provider-crash",
    "unpriced",
)


def make_saboteur_suite(root: Path) -> Path:
    suite = root / "saboteurs"
    for name in SABOTEURS:
        runner = PYTEST if name == "edits-tests" else UNITTEST
        make_calc_task(suite, name, test_command=runner, timeout_s=2 if name in ("sleeps", "loops-code") else 30)
    return suite


def saboteur_factory(suite: Path) -> Callable[[Task], PolicyProvider]:
    def make(task: Task) -> PolicyProvider:
        name = task.name
        if name == "honest":
            return PolicyProvider(oracle_responder(task.solution_texts()))
        if name == "syntax-error":
            return PolicyProvider(implementer_writes(write("calc/__init__.py", SYNTAX_ERROR)))
        if name == "edits-tests":
            return PolicyProvider(
                implementer_writes(
                    write("calc/__init__.py", WRONG_MUL),
                    write("test_acceptance.py", FAKE_PASSING_TEST),
                    write("conftest.py", CHEATING_CONFTEST),
                    write("tests/test_calc.py", FAKE_PASSING_TEST),
                )
            )
        if name == "reads-hidden":
            return PolicyProvider(reads_hidden(suite / name / "tests" / "test_acceptance.py"))
        if name == "sleeps":
            return PolicyProvider(implementer_writes(write("calc/__init__.py", SLEEPY_MUL)))
        if name == "loops-code":
            return PolicyProvider(implementer_writes(write("calc/__init__.py", LOOPING_MUL)))
        if name == "loops-model":
            return PolicyProvider(loops_forever)
        if name == "provider-error":
            return PolicyProvider(fails_with(ProviderError("invalid x-api-key", status=401)))
        if name == "provider-crash":
            return PolicyProvider(fails_with(RuntimeError("the provider's client fell over")))
        if name == "unpriced":
            return FixedModelProvider(oracle_responder(task.solution_texts()), "mystery-model-1")
        raise AssertionError(name)

    return make


class CountingFactory:
    """The oracle for every task, counting the providers made per task; `interrupt` stops one task."""

    def __init__(self, interrupt: str | None = None) -> None:
        self.made: dict[str, int] = {}
        self.interrupt = interrupt

    def __call__(self, task: Task) -> PolicyProvider:
        self.made[task.name] = self.made.get(task.name, 0) + 1
        if task.name == self.interrupt:
            return PolicyProvider(fails_with(KeyboardInterrupt()))
        return PolicyProvider(oracle_responder(task.solution_texts()))


# ---------------------------------------------------------------- Exercism
TWO_FER_EXAMPLE = (
    "from greeting_data import DEFAULT\n\n\ndef two_fer(name=DEFAULT):\n    return f'One for {name}, one for me.'\n"
)
TWO_FER_TEST = """import unittest

from two_fer import two_fer


class TwoFerTest(unittest.TestCase):
    def test_no_name_given(self):
        self.assertEqual(two_fer(), "One for you, one for me.")

    def test_a_name_given(self):
        self.assertEqual(two_fer("Alice"), "One for Alice, one for me.")
"""
HELLO_TEST = """import unittest

from hello_world import hello


class HelloWorldTest(unittest.TestCase):
    def test_say_hi(self):
        self.assertEqual(hello(), "Hello, World!")
"""


def exercise(root: Path, slug: str, files: Mapping[str, str], config: Mapping[str, Any]) -> None:
    write_tree(root / "exercises" / "practice" / slug, {**files, ".meta/config.json": json.dumps(config)})


def make_exercism_track(root: Path) -> Path:
    """A Python-track layout: two-fer (with an unlisted helper file) and hello-world (its stub passes)."""
    track = root / "python"
    exercise(
        track,
        "two-fer",
        {
            ".docs/introduction.md": "Two-fer is short for two for one.",
            ".docs/instructions.md": "# Instructions\n\nReturn 'One for X, one for me.'; X is 'you' by default.",
            ".docs/instructions.append.md": "# Python notes\n\nUse a default argument.",
            ".meta/example.py": TWO_FER_EXAMPLE,
            ".approaches/introduction.md": "f-strings, format, concatenation.",
            "two_fer.py": "def two_fer(name):\n    pass\n",
            "greeting_data.py": 'DEFAULT = "you"\n',
            "two_fer_test.py": TWO_FER_TEST,
        },
        {"files": {"solution": ["two_fer.py"], "test": ["two_fer_test.py"], "example": [".meta/example.py"]}},
    )
    exercise(
        track,
        "hello-world",
        {
            ".docs/instructions.md": "Say 'Hello, World!'.",
            ".meta/example.py": 'def hello():\n    return "Hello, World!"\n',
            "hello_world.py": 'def hello():\n    return "Hello, World!"\n',
            "hello_world_test.py": HELLO_TEST,
        },
        {"files": {"solution": ["hello_world.py"], "test": ["hello_world_test.py"], "example": [".meta/example.py"]}},
    )
    write_tree(track, {"config.json": "{}", "README.md": "# Exercism Python track\n"})
    return track


# ---------------------------------------------------------------- the polyglot benchmark
LEAP_JS_EXAMPLE = (
    "function isLeap(year) {\n  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);\n}\n\n"
    "module.exports = { isLeap };\n"
)
LEAP_JS_STUB = "function isLeap(year) {\n  throw new Error('not implemented');\n}\n\nmodule.exports = { isLeap };\n"
LEAP_JS_TEST = f"""// {HIDDEN_MARKER}
const test = require('node:test');
const assert = require('node:assert');
const {{ isLeap }} = require('./leap.js');

test('year not divisible by 4', () => {{
  assert.strictEqual(isLeap(2015), false);
}});

xtest('year divisible by 400', () => {{
  assert.strictEqual(isLeap(2000), true);
}});
"""  # xtest is not defined: the harness must turn it into test, as Aider's npm-test.sh does


def make_polyglot(root: Path) -> Path:
    """Aider's polyglot layout with one Python and one JavaScript exercise (node's own test runner),
    and a Go exercise: listed as skipped where there is no `go` on PATH."""
    bench = root / "polyglot-benchmark"
    py = bench / "python" / "exercises" / "practice" / "two-fer"
    write_tree(
        py,
        {
            ".docs/instructions.md": "# Instructions\n\nReturn 'One for X, one for me.'; X is 'you' by default.",
            ".meta/example.py": TWO_FER_EXAMPLE,
            ".meta/config.json": json.dumps(
                {"files": {"solution": ["two_fer.py"], "test": ["two_fer_test.py"], "example": [".meta/example.py"]}}
            ),
            "two_fer.py": "def two_fer(name):\n    pass\n",
            "greeting_data.py": 'DEFAULT = "you"\n',
            "two_fer_test.py": f"# {HIDDEN_MARKER}\n" + TWO_FER_TEST,
        },
    )
    js = bench / "javascript" / "exercises" / "practice" / "leap"
    write_tree(
        js,
        {
            ".docs/instructions.md": "# Instructions\n\nTell whether a year is a leap year in the Gregorian calendar.",
            ".meta/proof.ci.js": LEAP_JS_EXAMPLE,
            ".meta/config.json": json.dumps(
                {"files": {"solution": ["leap.js"], "test": ["leap.spec.js"], "example": [".meta/proof.ci.js"]}}
            ),
            "leap.js": LEAP_JS_STUB,
            "leap.spec.js": LEAP_JS_TEST,
            "package.json": json.dumps({"name": "leap", "private": True, "scripts": {"test": "node --test"}}),
        },
    )
    go = bench / "go" / "exercises" / "practice" / "hello"
    write_tree(
        go,
        {
            ".docs/instructions.md": "Say hello.",
            ".meta/example.go": "package hello\n",
            ".meta/config.json": json.dumps(
                {"files": {"solution": ["hello.go"], "test": ["hello_test.go"], "example": [".meta/example.go"]}}
            ),
            "hello.go": "package hello\n",
            "hello_test.go": "package hello\n",
        },
    )
    return bench


# ---------------------------------------------------------------- SWE-bench
TEST_MARKER = "hm7f3a"  # in the hidden tests' names, so in FAIL_TO_PASS: must never reach an agent either
SUB_BUGGY = CALC + "\n\ndef sub(a, b):\n    return a + b\n"
SUB_FIXED = CALC + "\n\ndef sub(a, b):\n    return a - b\n"
MUL_AND_SUB = SUB_BUGGY + "\n\ndef mul(a, b):\n    return a * b\n"
ADD_TEST = (
    "import unittest\n\nfrom calc import add\n\n\n"
    "class AddTests(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)


def _hidden_test(function: str, expected: int) -> str:
    return (
        f"# {HIDDEN_MARKER}\nimport unittest\n\nfrom calc import {function}\n\n\n"
        f"class {function.title()}Tests(unittest.TestCase):\n"
        f"    def test_{function}_{TEST_MARKER}(self):\n        self.assertEqual({function}(6, 3), {expected})\n"
    )


def _diff(repo: Path, files: Mapping[str, str]) -> str:
    """The patch that makes `files` in `repo` (left unchanged afterwards), as `git diff` writes it."""
    write_tree(repo, files)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached")
    git(repo, "reset", "--quiet", "--hard")
    return patch


def git(repo: Path, *args: str) -> str:
    import subprocess

    identity = ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def case_id(module: str, cls: str, name: str, pytest_style: bool) -> str:
    return f"tests/{module}.py::{cls}::{name}" if pytest_style else f"tests.{module}.{cls}.{name}"


def make_swebench_fixture(root: Path) -> tuple[Path, Path]:
    """A local repository `acme/calc` (as `repos/acme__calc`) and a two-instance SWE-bench dataset over it.

    The fix of each instance is also committed on a later branch, as in a real clone: the agents'
    copy must not have it. Every hidden field carries HIDDEN_MARKER. Test names follow the runner the
    project's environment detection picks (pytest node ids, or dotted unittest ids)."""
    from autodev.run.gate.environment import detect

    repos = root / "repos"
    repo = repos / "acme__calc"
    write_tree(
        repo,
        {
            "README.md": "# calc\n",
            "calc/__init__.py": SUB_BUGGY,
            "tests/__init__.py": "",
            "tests/test_calc.py": ADD_TEST,
        },
    )
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "calc with add and sub")
    base_1 = git(repo, "rev-parse", "HEAD").strip()
    write_tree(repo, {"docs/usage.md": "Call add or sub.\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "docs")
    base_2 = git(repo, "rev-parse", "HEAD").strip()
    environment = detect(repo, None)
    pytest_style = environment is not None and "pytest" in " ".join(environment.command)
    add = case_id("test_calc", "AddTests", "test_add", pytest_style)
    instances = [
        {
            "instance_id": "acme__calc-1",
            "repo": "acme/calc",
            "base_commit": base_1,
            "problem_statement": "calc has no mul(a, b): add one to calc/__init__.py that multiplies two numbers.",
            "hints_text": f"hint {HIDDEN_MARKER}",
            "patch": _diff(repo, {"calc/__init__.py": MUL_AND_SUB}),
            "test_patch": _diff(repo, {"tests/test_mul.py": _hidden_test("mul", 18)}),
            "FAIL_TO_PASS": json.dumps([case_id("test_mul", "MulTests", f"test_mul_{TEST_MARKER}", pytest_style)]),
            "PASS_TO_PASS": json.dumps([add]),
            "version": "0.1",
        },
        {
            "instance_id": "acme__calc-2",
            "repo": "acme/calc",
            "base_commit": base_2,
            "problem_statement": "sub(6, 3) returns 9: calc's sub adds instead of subtracting.",
            "hints_text": "",
            "patch": _diff(repo, {"calc/__init__.py": SUB_FIXED}),
            "test_patch": _diff(repo, {"tests/test_sub.py": _hidden_test("sub", 3)}),
            "FAIL_TO_PASS": [case_id("test_sub", "SubTests", f"test_sub_{TEST_MARKER}", pytest_style)],  # a list
            "PASS_TO_PASS": [add],
        },
    ]
    git(repo, "checkout", "--quiet", "-b", "future")
    write_tree(repo, {"calc/__init__.py": SUB_FIXED})
    git(repo, "commit", "--quiet", "-am", f"fix sub ({HIDDEN_MARKER})")
    git(repo, "checkout", "--quiet", "main")
    dataset = root / "swebench.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in instances), encoding="utf-8")
    return dataset, repos
