"""Which tests a change touched: a test id from the runner's report, located in the diff.

A test that already failed at the base is not blamed on the change — unless the change edited that
test (then it is the change's test, and it must pass). A test that passed at the base and no longer
runs is blamed — unless the change removed it (visible in the diff, for the reviewers to judge).

Ids are what the runner's report names: `tests.test_calc.AddTests.test_add` (unittest, and pytest's
JUnit `classname.name`), parametrised as `test_x[1-2]`. The id's module is the tracked Python file
whose dotted path ends the longest prefix of the id; its class and function are found with `ast`,
and the test counts as changed when a changed line of the diff falls inside it (decorators included).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from autodev.core import gitops

Touch = Literal["changed", "unchanged", "removed", "unknown"]
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_PARAMS = re.compile(r"\[.*\]$")


@dataclass
class ChangedTests:
    """The diff of `worktree` against `base`, asked about one test id at a time."""

    worktree: Path
    base: str
    _trees: dict[str, ast.Module | None] = field(default_factory=dict)

    @cached_property
    def _diff(self) -> tuple[dict[str, set[int]], set[str], set[str]]:
        """(changed lines per file in the new version, added files, deleted files)."""
        lines: dict[str, set[int]] = {}
        added: set[str] = set()
        deleted: set[str] = set()
        try:
            text = gitops.git(
                ["diff", *gitops.NO_PROGRAMS, "--no-color", "-U0", "--no-renames", self.base], self.worktree
            )
        except gitops.GitError:
            return lines, added, deleted
        old: str | None = None
        current: str | None = None
        for line in text.stdout.splitlines():
            if line.startswith("--- "):
                old = line[6:] if line.startswith("--- a/") else None
            elif line.startswith("+++ "):
                current = line[6:] if line.startswith("+++ b/") else None
                if current is None and old is not None:
                    deleted.add(old)
                elif current is not None and old is None:
                    added.add(current)
            elif current is not None and (match := _HUNK.match(line)):
                start, count = int(match.group(1)), int(match.group(2) or "1")
                touched = range(start, start + count) if count else range(start, start + 2)  # a deletion: around it
                lines.setdefault(current, set()).update(touched)
        return lines, added, deleted

    @cached_property
    def _modules(self) -> dict[str, str]:
        """Dotted suffix -> file, for every tracked Python file now and every one the change deleted."""
        try:
            files = gitops.git(["ls-files", "-z", "--", "*.py"], self.worktree).stdout.split("\0")
        except gitops.GitError:
            files = []
        found: dict[str, str] = {}
        for path in [f for f in files if f] + sorted(self._diff[2]):
            parts = path[: -len(".py")].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            for start in range(len(parts)):
                found.setdefault(".".join(parts[start:]), path)
        return found

    def _tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                source = (self.worktree / path).read_text(encoding="utf-8", errors="replace")
                self._trees[path] = ast.parse(source)
            except (OSError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def touch(self, test_id: str) -> Touch:
        """How the change touched the test `test_id` names."""
        parts = _PARAMS.sub("", test_id).split(".")
        for cut in range(len(parts), 0, -1):  # the whole id may be a module: a collection error's
            path = self._modules.get(".".join(parts[:cut]))
            if path is not None:
                return self._touch_in(path, parts[cut:])
        return "unknown"

    def _touch_in(self, path: str, names: list[str]) -> Touch:
        changed, added, deleted = self._diff
        if path in deleted:
            return "removed"
        if path in added:
            return "changed"
        if not names:
            return "changed" if path in changed else "unchanged"
        tree = self._tree(path)
        if tree is None:
            return "unknown"
        node: ast.AST = tree
        for name in names:
            body = getattr(node, "body", [])
            found = next(
                (
                    child
                    for child in body
                    if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and child.name == name
                ),
                None,
            )
            if found is None:
                # not defined here: the change removed it (its file changed), or it is inherited or generated
                return "removed" if path in changed else "unknown"
            node = found
        assert isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        last = node.end_lineno or node.lineno
        return "changed" if changed.get(path, set()) & set(range(first, last + 1)) else "unchanged"
