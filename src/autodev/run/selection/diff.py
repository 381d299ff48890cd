"""The diff classifier: what a change actually touched, file by file, and the change type that follows.

Each changed file is docs, config, deps, tests or code by its path (`paths.path_kind`). With both versions of
a Python file at hand, a file whose syntax tree is unchanged apart from docstrings and comments counts
as docs (a docstring with `>>>` examples is a doctest, so changing one counts as tests). With both
versions of a manifest (pyproject.toml, package.json, Cargo.toml), a change that leaves its packaging
tables alone counts as config (`manifests`). Without contents (the benchmark has only
`git diff --numstat`), the path decides.

The change type of a diff, in order:
- feature: any code or tests file changed, or a config file whose path is security-sensitive;
- deps:    else any packaging, dependency or build file changed (it gets the security audit and the gate);
- config:  else any config file changed;
- typo:    else docs only, every file's change a line-for-line replacement (added == deleted), at most
           `TYPO_MAX_LINES` lines in all;
- docs:    else (docs only, or nothing changed at all).
Tests count with code: a changed test is a changed behaviour of the test suite, which the gate must run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from autodev.run.selection.manifests import manifest_name, packaging_changed
from autodev.run.selection.paths import PathKind, expand_numstat_path, is_packaging, path_kind, security_words

TYPO_MAX_LINES = 3
PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class ChangedFile:
    path: str
    added: int = 0
    deleted: int = 0
    before: str | None = None  # the base version's text; None when unknown, new or binary
    after: str | None = None  # the changed version's text; None when unknown, deleted or binary


@dataclass(frozen=True)
class FileVerdict:
    path: str
    kind: PathKind
    security: tuple[str, ...] = ()
    note: str = ""  # why, when it is not just the path (e.g. "docstrings and comments only")


@dataclass(frozen=True)
class DiffClass:
    change_type: str  # docs | typo | config | feature
    reasons: tuple[str, ...]
    files: tuple[FileVerdict, ...] = field(default_factory=tuple)

    def kinds(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for verdict in self.files:
            grouped.setdefault(verdict.kind, []).append(verdict.path)
        return grouped

    @property
    def packaging_paths(self) -> list[str]:
        """Files whose change changes what users install (deps files, and build scripts such as setup.py)."""
        return [verdict.path for verdict in self.files if verdict.kind == "deps" or is_packaging(verdict.path)]

    @property
    def security_paths(self) -> list[str]:
        return [verdict.path for verdict in self.files if verdict.security]


# ---------------------------------------------------------------- Python: docstrings and comments only
def _strip_docstrings(tree: ast.AST) -> list[str]:
    """Remove docstrings in place; return their texts."""
    removed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                removed.append(body[0].value.value)
                node.body = body[1:] or [ast.Pass()]
    return removed


def python_change(before: str, after: str) -> str | None:
    """ "docs" when two versions of a Python file differ only in docstrings and comments, "tests" when a
    changed docstring holds doctest examples (`>>>`), None when the code differs or either fails to parse."""
    try:
        old, new = ast.parse(before), ast.parse(after)
    except (SyntaxError, ValueError):
        return None
    old_docs, new_docs = _strip_docstrings(old), _strip_docstrings(new)
    if ast.dump(old) != ast.dump(new):
        return None
    changed = set(old_docs) ^ set(new_docs)
    return "tests" if any(">>>" in doc for doc in changed) else "docs"


# ---------------------------------------------------------------- files and diffs
def classify_file(changed: ChangedFile) -> FileVerdict:
    kind = path_kind(changed.path)
    known = changed.before is not None and changed.after is not None
    if (
        kind == "deps"
        and manifest_name(changed.path)
        and known
        and not packaging_changed(changed.path, changed.before, changed.after)
    ):
        return FileVerdict(changed.path, "config", (), "tool settings only: no packaging table changed")
    security = tuple(security_words(changed.path)) if kind in ("code", "config") else ()
    if (
        kind == "code"
        and changed.path.lower().endswith(PYTHON_SUFFIXES)
        and changed.before is not None
        and changed.after is not None
    ):
        found = python_change(changed.before, changed.after)
        if found == "docs":
            return FileVerdict(changed.path, "docs", (), "docstrings and comments only")
        if found == "tests":
            return FileVerdict(changed.path, "tests", (), "doctest examples in a docstring changed")
    return FileVerdict(changed.path, kind, security)


def files_from_numstat(entries: Iterable[dict[str, object]]) -> list[ChangedFile]:
    """`{"path", "added", "deleted"}` records (as in the benchmark data) -> ChangedFiles; a rename
    (`a => b`) yields both sides; binary files (`-`) count as 0 lines."""
    out: list[ChangedFile] = []
    for entry in entries:
        added, deleted = _count(entry.get("added")), _count(entry.get("deleted"))
        for path in expand_numstat_path(str(entry.get("path", ""))):
            out.append(ChangedFile(path, added, deleted))
    return out


def _count(value: object) -> int:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _listing(paths: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def classify_diff(files: Sequence[ChangedFile]) -> DiffClass:
    verdicts = tuple(classify_file(f) for f in files)
    if not verdicts:
        return DiffClass("docs", ("diff: no file changed",), ())
    by_kind: dict[str, list[str]] = {}
    for verdict in verdicts:
        by_kind.setdefault(verdict.kind, []).append(verdict.path)
    reasons: list[str] = []
    for kind in ("code", "tests", "deps", "config", "docs"):
        if kind in by_kind:
            reasons.append(f"diff: {kind} changed: {_listing(by_kind[kind])}")
    softened = [v.path for v in verdicts if v.note == "docstrings and comments only"]
    if softened:
        reasons.append(f"diff: docstring/comment changes only, counted as docs: {_listing(softened)}")
    sensitive = [f"{v.path} ({', '.join(v.security)})" for v in verdicts if v.security]
    if sensitive:
        reasons.append(f"diff: security-sensitive paths: {_listing(sensitive)}")
    sensitive_config = [v.path for v in verdicts if v.security and v.kind == "config"]
    if "code" in by_kind or "tests" in by_kind or sensitive_config:
        return DiffClass("feature", tuple(reasons), verdicts)
    if "deps" in by_kind:
        reasons.append("diff: packaging or dependencies changed: the security audit and the test gate run")
        return DiffClass("deps", tuple(reasons), verdicts)
    if "config" in by_kind:
        return DiffClass("config", tuple(reasons), verdicts)
    lines = sum(f.added for f in files)
    if all(f.added == f.deleted for f in files) and 0 < lines <= TYPO_MAX_LINES:
        reasons.append(f"diff: {lines} line(s) replaced in docs only: a typo-sized change")
        return DiffClass("typo", tuple(reasons), verdicts)
    return DiffClass("docs", tuple(reasons), verdicts)
