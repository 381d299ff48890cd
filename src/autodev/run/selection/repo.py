"""The classifiers' view of a real repository: what a named path is, and what a run's worktree changed.

Read-only git plumbing (`git ls-tree`, `git diff --numstat`, `git show`); the classifiers themselves
stay pure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from autodev.core import gitops
from autodev.run.selection.diff import PYTHON_SUFFIXES, ChangedFile
from autodev.run.selection.manifests import manifest_name
from autodev.run.selection.paths import PathKind, path_kind
from autodev.run.selection.request import PathFacts

MAX_PYTHON_FILES = 200  # files read in full for the docstring check; beyond that the path decides
MAX_FILE_BYTES = 1_000_000


def tracked_files(repo: Path, commit: str = "HEAD") -> list[str]:
    result = gitops.git(["ls-tree", "-r", "-z", "--name-only", commit], repo, check=False)
    return [path for path in result.stdout.split("\0") if path] if result.returncode == 0 else []


def repo_lookup(repo: Path, commit: str = "HEAD") -> ListingLookup:
    """A `PathLookup` over the files of `commit`; the listing is read once, on first use."""
    cache: list[list[str]] = []

    def files() -> list[str]:
        if not cache:
            cache.append(tracked_files(repo, commit))
        return cache[0]

    return listing_lookup(files)


class ListingLookup:
    """A `PathLookup` over a listing of repository paths (a commit's files, or the benchmark's
    approximation of them) that can also say where the repository keeps code (`code_paths`): the
    request classifier asks whether the docs build or CI runs code of the project's own."""

    def __init__(self, files: Callable[[], Collection[str]]) -> None:
        self._files = files
        self._code: tuple[str, ...] | None = None

    def listing(self) -> tuple[str, ...]:
        """Every path of the listing, sorted."""
        return tuple(sorted(self._files()))

    def code_paths(self) -> tuple[str, ...]:
        if self._code is None:
            self._code = tuple(sorted(f for f in self._files() if path_kind(f) == "code"))
        return self._code

    def __call__(self, path: str) -> PathFacts | None:
        clean = path.replace("\\", "/").strip().strip("/")
        if not clean or clean.startswith("/") or ".." in PurePosixPath(clean).parts:
            return None
        listing = self._files()
        if clean in listing:
            return PathFacts(True, path_kind(clean))
        prefix = clean + "/"
        if any(f.startswith(prefix) for f in listing):
            return PathFacts(True, path_kind(prefix + "file"), clean + "/")
        if "/" not in clean:  # a bare name: README, strings.py
            lowered = clean.lower()
            matches = [
                f
                for f in listing
                if PurePosixPath(f).name.lower() == lowered or PurePosixPath(f).stem.lower() == lowered
            ]
            kinds = {path_kind(f) for f in matches}
            if len(kinds) == 1:
                return PathFacts(True, kinds.pop(), matches[0])
            if kinds:  # the name is ambiguous: the most cautious kind wins
                cautious = ("code", "tests", "deps", "config", "docs")
                kind: PathKind = next(k for k in cautious if k in kinds)
                return PathFacts(True, kind, next(f for f in matches if path_kind(f) == kind))
        return PathFacts(False, path_kind(clean))


def listing_lookup(files: Callable[[], Collection[str]]) -> ListingLookup:
    """A `PathLookup` over a listing of repository paths (see `ListingLookup`)."""
    return ListingLookup(files)


def changed_files(worktree: Path, base: str) -> list[ChangedFile]:
    """Every file the worktree changed against `base` (staged, so new files count), with both versions
    of changed Python files for the docstring check. Renames count as a deletion and an addition."""
    gitops.stage_all(worktree)
    out = gitops.git(["diff", "--cached", "--numstat", "-z", "--no-renames", base], worktree).stdout
    files: list[ChangedFile] = []
    python_read = 0
    for entry in out.split("\0"):
        if not entry.strip():
            continue
        added, deleted, path = entry.split("\t", 2)
        before = after = None
        if (path.lower().endswith(PYTHON_SUFFIXES) or manifest_name(path)) and python_read < MAX_PYTHON_FILES:
            python_read += 1
            before, after = _show(worktree, base, path), _read(worktree / path)
        count = (int(added) if added.isdigit() else 0, int(deleted) if deleted.isdigit() else 0)
        files.append(ChangedFile(path, count[0], count[1], before, after))
    return files


def _show(worktree: Path, commit: str, path: str) -> str | None:
    try:
        result = gitops.git(["show", f"{commit}:{path}"], worktree, check=False)
    except UnicodeDecodeError:
        return None
    return result.stdout if result.returncode == 0 and len(result.stdout) <= MAX_FILE_BYTES else None


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
