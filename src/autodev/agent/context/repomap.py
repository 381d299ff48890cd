"""The repository map: which text files a repository holds, and for Python its classes and functions.

Files come from git (tracked plus untracked-but-not-ignored in a worktree, or the tree of a commit read
straight from the object store, so nothing on disk changes). Binary files, very large files and
autodev's own `.autodev/` directory are left out. Python files are parsed with `ast`; a file that does
not parse falls back to a line scan for `def` and `class`, so a syntax error never hides a file.
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from autodev.core.gitops import git, git_argv, git_env

MAX_FILE_BYTES = 256_000
SKIP_DIRS = (".autodev/", ".git/")
_DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)\s*([^:]*)")


@dataclass(frozen=True)
class Symbol:
    kind: str  # "class" | "def"
    name: str
    qualname: str  # Outer.method for methods
    signature: str
    start: int  # 1-based, first line (decorators included)
    end: int  # 1-based, last line
    depth: int  # 0 for top level


@dataclass
class FileEntry:
    path: str  # posix, relative to the repository root
    text: str
    symbols: list[Symbol] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def is_python(self) -> bool:
        return self.path.endswith((".py", ".pyi"))


@dataclass
class RepoMap:
    files: list[FileEntry]

    def outline(self, path: str) -> list[str]:
        """`path`'s symbols as indented signatures (empty for non-Python files)."""
        for entry in self.files:
            if entry.path == path:
                return ["    " * s.depth + s.signature for s in entry.symbols]
        return []


def _decode(data: bytes) -> str | None:
    if len(data) > MAX_FILE_BYTES or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(name: str) -> bytes:
    """A path as git prints it with `core.quotepath` on (ASCII only, C-quoted when unusual) -> its bytes."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name.encode("ascii", "surrogateescape")
    out, body, index = bytearray(), name[1:-1], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and body[index + 1 : index + 4].isdigit():
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        elif char == "\\" and index + 1 < len(body):
            out.append(_C_ESCAPES.get(body[index + 1], ord(body[index + 1])))
            index += 2
        else:
            out += char.encode("utf-8")
            index += 1
    return bytes(out)


def _git_paths(root: Path, args: list[str]) -> list[tuple[str, str]]:
    """(meta, path) per line of a git listing, paths that are not UTF-8 left out.

    The listing is asked for quoted (`core.quotepath`, no `-z`) so git's output is ASCII whatever the
    names: a tracked file whose name is not UTF-8 is skipped, as its content would be, instead of
    failing the decoding of the whole listing. `meta` is what precedes a tab (ls-tree), else "".
    """
    listing = git(["-c", "core.quotepath=on", *args], root).stdout
    found = []
    for line in listing.splitlines():
        meta, tab, quoted = line.partition("\t")
        if not tab:
            meta, quoted = "", line
        try:
            found.append((meta, _unquote(quoted).decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def _wanted(path: str) -> bool:
    return not path.startswith(SKIP_DIRS) and "/.git/" not in path


def python_symbols(text: str) -> list[Symbol]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _scan_symbols(text)
    symbols: list[Symbol] = []

    def visit(nodes: list[ast.stmt], prefix: str, depth: int) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                symbols.append(
                    Symbol(
                        "class" if isinstance(node, ast.ClassDef) else "def",
                        node.name,
                        prefix + node.name,
                        _signature(node),
                        start,
                        end,
                        depth,
                    )
                )
                if isinstance(node, ast.ClassDef):
                    visit(node.body, prefix + node.name + ".", depth + 1)

    visit(tree.body, "", 0)
    return symbols


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    try:
        if isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
            return f"class {node.name}({bases})" if bases else f"class {node.name}"
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"
    except Exception:  # ast.unparse on odd trees: the name is enough
        return node.name


def _scan_symbols(text: str) -> list[Symbol]:
    """Symbols of a file `ast` rejects: each `def`/`class` line runs to the next one at its indent or less."""
    lines = text.splitlines()
    found: list[tuple[int, int, str, str, str]] = []
    for number, line in enumerate(lines, 1):
        match = _DEF_LINE.match(line)
        if match:
            found.append((number, len(match.group(1)), match.group(2), match.group(3), line.strip().rstrip(":")))
    symbols = []
    for i, (start, indent, kind, name, signature) in enumerate(found):
        end = len(lines)
        for later_start, later_indent, *_ in found[i + 1 :]:
            if later_indent <= indent:
                end = later_start - 1
                break
        symbols.append(Symbol(kind, name, name, signature, start, max(start, end), 0 if indent == 0 else 1))
    return symbols


def _entry(path: str, text: str) -> FileEntry:
    entry = FileEntry(path, text)
    if entry.is_python:
        entry.symbols = python_symbols(text)
    return entry


def map_worktree(root: Path) -> RepoMap:
    """The files of a checkout as they are on disk: tracked, plus untracked files git does not ignore."""
    listed = _git_paths(root, ["ls-files", "--cached", "--others", "--exclude-standard"])
    files = []
    for path in sorted({path for _, path in listed if path}):
        full = root / path
        if not _wanted(path) or not full.is_file() or full.is_symlink():
            continue
        try:
            if full.stat().st_size > MAX_FILE_BYTES:
                continue
            text = _decode(full.read_bytes())
        except OSError:
            continue
        if text is not None:
            files.append(_entry(path, text))
    return RepoMap(files)


def map_commit(repo: Path, rev: str) -> RepoMap:
    """The files of commit `rev`, read from git's object store: no checkout, nothing written."""
    blobs: list[tuple[str, str]] = []
    for meta, path in _git_paths(repo, ["ls-tree", "-r", "-l", rev]):
        mode, kind, oid, size = meta.split()
        if kind != "blob" or mode == "120000" or not _wanted(path) or not size.isdigit():
            continue
        if int(size) <= MAX_FILE_BYTES:
            blobs.append((path, oid))
    if not blobs:
        return RepoMap([])
    result = subprocess.run(
        git_argv(["cat-file", "--batch"], repo),
        cwd=repo,
        env=git_env(),
        input="".join(oid + "\n" for _, oid in blobs).encode(),
        capture_output=True,
        check=True,
        timeout=120,
    )
    data, pos, files = result.stdout, 0, []
    for path, _ in blobs:
        header_end = data.index(b"\n", pos)
        length = int(data[pos:header_end].split()[2])
        body = data[header_end + 1 : header_end + 1 + length]
        pos = header_end + 1 + length + 1
        text = _decode(body)
        if text is not None:
            files.append(_entry(path, text))
    files.sort(key=lambda e: e.path)
    return RepoMap(files)
