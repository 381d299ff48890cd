"""Write scopes: where one agent may write, as globs over paths relative to the worktree root.

An agent's scope comes from its file's `write_scope:` (docs/agents.md) or, taking precedence, from
`write_scopes.<agent>` in config: `*` stays within a directory, `**` spans any number, `!glob`
excludes, an empty list means read-only. An agent with neither writes wherever its tools let it.
A scope that does not cover tests never covers the files the test runner collects (`TEST_RUNNER_FILES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNRESTRICTED = ("**",)
# Files the test runner collects and runs, and its configuration (which decides what it collects): the
# gate executes them. pytest collects test_*.py, *_test.py and conftest.py, and runs the doctests of
# test*.txt files (its default --doctest-glob) wherever they are. Only an agent whose write scope covers
# the tests (test-master, implementer, `**`) may write them: a scope for docs must not become a way to run
# code at the next gate (doc-master wrote docs/test_guide.txt holding a doctest).
TEST_RUNNER_FILES = (
    "**/test_*.py", "**/*_test.py", "**/conftest.py", "**/test*.txt", "**/tests/**", "**/test/**",
    "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml",
)  # fmt: skip
# A scope covers the tests when it allows one of these (where a project's tests usually live).
TEST_PROBES = ("tests/test_autodev_probe.py", "test/test_autodev_probe.py", "test_autodev_probe.py")


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` (a write-scope glob, `!` for an exclusion) is unusable, or None when it is fine."""
    unified = pattern.removeprefix("!").replace("\\", "/")
    if not unified or unified.startswith("/") or ".." in unified.split("/") or unified[1:2] == ":":
        return f"{pattern!r} must be a glob relative to the repository root"
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob: `*` and `?` stay within one directory, `**/` spans any number of them."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern)


def is_test_runner_file(rel_path: str) -> bool:
    """True for a path (relative to the worktree root) the test runner would collect or read as config."""
    rel = rel_path.replace("\\", "/").strip("/")
    return any(_compiled(pattern).fullmatch(rel) for pattern in TEST_RUNNER_FILES)


@dataclass(frozen=True)
class WriteScope:
    """Where one agent may write: globs over paths relative to the worktree root."""

    agent: str
    patterns: tuple[str, ...]
    source: str = "default"

    @property
    def read_only(self) -> bool:
        return not any(not pattern.startswith("!") for pattern in self.patterns)

    @property
    def unrestricted(self) -> bool:
        return "**" in self.patterns and not any(pattern.startswith("!") for pattern in self.patterns)

    def _matches(self, rel: str) -> bool:
        excluded = any(_compiled(p[1:]).fullmatch(rel) for p in self.patterns if p.startswith("!"))
        return not excluded and any(_compiled(p).fullmatch(rel) for p in self.patterns if not p.startswith("!"))

    @property
    def covers_tests(self) -> bool:
        """True when the scope lets its agent write tests (so test-runner files are not held back from it)."""
        return any(self._matches(probe) for probe in TEST_PROBES)

    def allows(self, rel_path: str) -> bool:
        """True when a pattern matches `rel_path`, no `!pattern` excludes it, and it is not a file the test
        runner collects unless the scope covers tests."""
        rel = rel_path.replace("\\", "/").strip("/")
        return self._matches(rel) and (self.covers_tests or not is_test_runner_file(rel))

    def describe(self) -> str:
        if self.read_only:
            return "nothing (read-only)"
        shown = ", ".join(self.patterns[:12]) + (", ..." if len(self.patterns) > 12 else "")
        if not self.unrestricted and not self.covers_tests:
            shown += " (never files the test runner collects: test_*.py, *_test.py, conftest.py, test*.txt, tests/)"
        return shown

    def refusal(self, shown: str, rel_path: str) -> str:
        if self._matches(rel_path) and is_test_runner_file(rel_path):
            return (
                f"{shown!r}: the test runner collects and runs this file (pytest: test_*.py, *_test.py, conftest.py, "
                f"doctests in test*.txt, tests/, its config); {self.agent}'s write scope does not cover tests, "
                "so it may not write it: pick another name"
            )
        if self.read_only:
            return f"{shown!r}: {self.agent} is read-only; it may not write files"
        where = "" if shown.replace("\\", "/").strip("./") == rel_path else f" (it is {rel_path!r})"
        return f"{shown!r}{where} is outside {self.agent}'s write scope; {self.agent} may write only {self.describe()}"
