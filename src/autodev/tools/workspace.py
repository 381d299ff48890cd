"""The run's worktree as the only place tools may touch.

Every path a model names is resolved here, symlinks included, and refused unless it lands inside the
worktree and outside `.git/` and `.autodev/`. Refusals are errors returned to the model (the run goes
on) and are counted, so a run that keeps knocking on the walls shows up in its metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PROTECTED_DIRS: frozenset[str] = frozenset({".git", ".autodev"})


class ToolError(Exception):
    """A tool call that could not be carried out; its message goes back to the model."""


@dataclass
class Workspace:
    root: Path
    read_only: bool = False
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    def refuse(self, message: str) -> ToolError:
        self.refusals.append(message)
        return ToolError(message)

    def resolve(self, path: str, *, for_write: bool = False) -> Path:
        """Map a model-supplied relative path to a real path inside the worktree, or refuse."""
        if for_write and self.read_only:
            raise self.refuse("this agent is read-only here: writing files is not allowed")
        if not isinstance(path, str) or not path.strip():
            raise self.refuse("a path is required (relative to the repository root)")
        if "\x00" in path:
            raise self.refuse("path contains a NUL byte")
        posix = PurePosixPath(path.replace("\\", "/"))
        if posix.is_absolute() or (len(path) > 1 and path[1] == ":"):
            raise self.refuse(f"{path!r}: absolute paths are not allowed; use a path relative to the repository root")
        if ".." in posix.parts:
            raise self.refuse(f"{path!r}: '..' is not allowed; paths stay inside the repository")
        candidate = (self.root / Path(*posix.parts)).resolve() if posix.parts else self.root
        try:
            relative = candidate.relative_to(self.root)
        except ValueError:
            raise self.refuse(f"{path!r} resolves outside the repository (a symlink?)") from None
        if relative.parts and relative.parts[0].lower() in PROTECTED_DIRS:
            raise self.refuse(f"{path!r}: {relative.parts[0]}/ is off limits to tools")
        return candidate

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."
