"""The doc-master's analysers: public Python names the change added, re-signed or removed, and the docs that
mention them.

Public means module-level functions and classes, and the methods of public classes (plus `__init__`, the
constructor's signature), whose names don't start with `_`; a module's literal `__all__` wins when it has
one. Test files and private modules (`_x.py`, `_pkg/`) have no public names. Both sides come from the AST:
the base commit's file via `git show`, and the worktree's file.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from autodev.agent.analysers.base import (
    AnalyserResult,
    AnalysisInput,
    ChangedFile,
    Finding,
    inside,
    is_test_path,
    result,
)
from autodev.core.gitops import git

Change = Literal["added", "signature-changed", "removed"]
MAX_SOURCE_BYTES = 2_000_000
MAX_DOC_BYTES = 1_000_000
MAX_DOC_FILES = 2_000
DOC_SUFFIXES = {".md", ".rst", ".txt", ".adoc", ".markdown", ".mdx"}
MENTIONS_PER_NAME = 5
NON_API_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "manage.py"}


@dataclass(frozen=True)
class ApiName:
    qualname: str  # "slugify", "Slugger" or "Slugger.run"
    signature: str
    line: int


@dataclass(frozen=True)
class ApiChange:
    path: str
    name: ApiName
    change: Change
    before: str | None  # the old signature when it changed


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    decorators = "".join(f"@{ast.unparse(d)} " for d in node.decorator_list)
    if isinstance(node, ast.ClassDef):
        bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
        return f"{decorators}class {node.name}" + (f"({', '.join(bases)})" if bases else "")
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{decorators}{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _declared_all(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, expr = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, expr = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            try:
                value = ast.literal_eval(expr)
            except ValueError:
                return None
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return set(value)
    return None


def public_names(source: str) -> dict[str, ApiName]:
    """The public API of one module's source; raises SyntaxError when it doesn't parse."""
    tree = ast.parse(source)
    exported = _declared_all(tree)
    names: dict[str, ApiName] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        public = node.name in exported if exported is not None else not node.name.startswith("_")
        if not public:
            continue
        names[node.name] = ApiName(node.name, _signature(node), node.lineno)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if not item.name.startswith("_") or item.name == "__init__":
                    qual = f"{node.name}.{item.name}"
                    names[qual] = ApiName(qual, _signature(item), item.lineno)
    return names


def is_api_module(path: str) -> bool:
    p = PurePosixPath(path)
    if p.suffix not in (".py", ".pyi") or p.name in NON_API_FILES or is_test_path(path):
        return False
    return not any(part.startswith("_") and part != "__init__.py" and part != "__init__.pyi" for part in p.parts)


def _source_at_base(inp: AnalysisInput, f: ChangedFile) -> str:
    if f.status == "A":
        return ""
    shown = git(["show", f"{inp.base}:{f.old_path or f.path}"], inp.worktree, check=False)
    return shown.stdout if shown.returncode == 0 else ""


def _source_now(inp: AnalysisInput, f: ChangedFile) -> str:
    path = inside(inp.worktree, f.path) if f.status != "D" else None
    if path is None or path.stat().st_size > MAX_SOURCE_BYTES:
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


@functools.lru_cache(maxsize=8)
def api_changes(inp: AnalysisInput) -> tuple[tuple[ApiChange, ...], tuple[str, ...]]:
    """(the changes to public names, notes about files that could not be read)."""
    changes: list[ApiChange] = []
    notes: list[str] = []
    for f in inp.changed:
        was_api = is_api_module(f.old_path or f.path)
        if not (is_api_module(f.path) or was_api):
            continue
        try:
            before = public_names(_source_at_base(inp, f)) if was_api else {}
        except SyntaxError:
            notes.append(f"{f.old_path or f.path} did not parse at the base commit; all its names count as added")
            before = {}
        try:
            after = public_names(_source_now(inp, f)) if is_api_module(f.path) else {}
        except SyntaxError as exc:
            notes.append(f"{f.path} does not parse (line {exc.lineno}); its public names are unknown")
            continue
        for qual, name in after.items():
            if qual not in before:
                changes.append(ApiChange(f.path, name, "added", None))
            elif before[qual].signature != name.signature:
                changes.append(ApiChange(f.path, name, "signature-changed", before[qual].signature))
        for qual, name in before.items():
            if qual not in after:
                changes.append(ApiChange(f.old_path or f.path, name, "removed", None))
    return tuple(changes), tuple(notes)


def public_api(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    changes, notes = api_changes(inp)
    findings = []
    for c in changes:
        message = f"`{c.name.qualname}`: {c.name.signature}"
        if c.before is not None:
            message += f"  (was: {c.before})"
        line: int | None = c.name.line
        if c.change == "removed":
            message, line = message + f"  (was at line {c.name.line})", None
        findings.append(Finding(c.path, line, c.change, message, "info"))
    scanned = sum(1 for f in inp.changed if is_api_module(f.path) or is_api_module(f.old_path or f.path))
    return result("public_api", findings, "; ".join([f"{scanned} changed Python module(s) compared", *notes]))


# ------------------------------------------------------------------------------------------ docs
def is_doc(path: str) -> bool:
    p = PurePosixPath(path)
    if any(part.startswith(".") for part in p.parts):
        return False
    if p.name.upper().startswith("README"):
        return True
    if p.parts[0] in ("docs", "doc") and (p.suffix.lower() in DOC_SUFFIXES or not p.suffix):
        return True
    return p.suffix.lower() in (".md", ".rst")


def doc_files(inp: AnalysisInput) -> list[str]:
    listed = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], inp.worktree).stdout
    return sorted(p for p in set(listed.split("\0")) if p and is_doc(p))[:MAX_DOC_FILES]


def mention_pattern(qualname: str) -> re.Pattern[str]:
    """A method is looked for as `.name` (obj.name, Class.name); anything else as a whole word."""
    if "." in qualname:
        cls, method = qualname.split(".", 1)
        if method == "__init__":
            return re.compile(rf"\b{re.escape(cls)}\b")
        return re.compile(rf"\.{re.escape(method)}\b")
    return re.compile(rf"\b{re.escape(qualname)}\b")


def doc_mentions(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
    changes, _ = api_changes(inp)
    if not changes:
        return AnalyserResult("doc_mentions", "ok", [], "no public name added, changed or removed")
    docs = {}
    for path in doc_files(inp):
        file = inside(inp.worktree, path)
        if file is not None and file.stat().st_size <= MAX_DOC_BYTES:
            docs[path] = file.read_text(encoding="utf-8", errors="replace").splitlines()
    findings = []
    for c in changes:
        pattern = mention_pattern(c.name.qualname)
        hits = []
        for path, lines in docs.items():
            line = next((n for n, text in enumerate(lines, 1) if pattern.search(text)), None)
            if line is not None:
                hits.append((path, line))
        label = f"`{c.name.qualname}` ({c.change})"
        if not hits:
            if c.change != "removed":
                message = f"{label}: mentioned nowhere in the documentation (README*, docs/**, *.md, *.rst)"
                findings.append(Finding(c.path, c.name.line, "undocumented", message, "medium"))
            continue
        for path, line in hits[:MENTIONS_PER_NAME]:
            if c.change == "removed":
                findings.append(
                    Finding(path, line, "stale-mention", f"{label}: removed, still mentioned here", "medium")
                )
            else:
                findings.append(
                    Finding(path, line, "mentioned", f"{label}: mentioned here; check it is current", "info")
                )
        if len(hits) > MENTIONS_PER_NAME:
            rest = len(hits) - MENTIONS_PER_NAME
            findings.append(Finding("", None, "more-mentions", f"{label}: {rest} more documentation file(s)", "info"))
    return result("doc_mentions", findings, f"{len(docs)} documentation file(s) searched for {len(changes)} name(s)")
