"""Taking back a run's setup that failed half way, so a failed start leaves the repository as it was.

Setting a run up writes in three places: `.autodev/runs/<id>/`, `.git/info/exclude` (three lines) and
`git worktree add` (the worktree under `.autodev/worktrees/` and the branch `autodev/<id>`). When one
of them fails (a read-only `.autodev`, a full disk), what the others made is removed and the exclude
file gets its old bytes back; the error becomes one line for the user, who can fix the cause.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.run.layout import RunPaths

SETUP_HINT = "autodev keeps its runs and worktrees under .autodev: make it writable or free some disk space, then rerun"


@dataclass(frozen=True)
class SetupUndo:
    """What existed before a run's setup, to put back if the setup fails."""

    repo: Path
    paths: RunPaths
    use_worktree: bool
    exclude: Path
    exclude_bytes: bytes | None  # None: there was no exclude file
    made_dirs: tuple[Path, ...]  # directories the setup may create, deepest first, that did not exist
    branch: str | None  # the run's branch, when it did not exist before (never delete one the setup did not make)

    @classmethod
    def before(cls, repo: Path, paths: RunPaths, use_worktree: bool, branch: str) -> SetupUndo:
        exclude = gitops.common_dir(repo) / "info" / "exclude"
        candidates = [paths.run_dir.parent, paths.worktree.parent, paths.run_dir.parent.parent, exclude.parent]
        made = tuple(path for path in candidates if not path.exists())
        new_branch = branch if branch and not gitops.branch_exists(repo, branch) else None
        return cls(repo, paths, use_worktree, exclude, _read(exclude), made, new_branch)

    def take_back(self) -> None:
        """Remove what the failed setup made; every step is best effort, none raises."""
        shutil.rmtree(self.paths.run_dir, ignore_errors=True)
        if self.use_worktree:
            shutil.rmtree(self.paths.worktree, ignore_errors=True)
            gitops.git(["worktree", "prune"], self.repo, check=False)
            if self.branch and gitops.branch_exists(self.repo, self.branch):
                # update-ref, not `branch -D`: that one leaves a packed-refs file behind
                gitops.git(["update-ref", "-d", f"refs/heads/{self.branch}"], self.repo, check=False)
        with contextlib.suppress(OSError):
            if self.exclude_bytes is None:
                self.exclude.unlink(missing_ok=True)
            elif _read(self.exclude) != self.exclude_bytes:
                self.exclude.write_bytes(self.exclude_bytes)
        for directory in self.made_dirs:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty

    def error(self, exc: OSError | UnicodeError | gitops.GitError) -> UserError:
        if isinstance(exc, UnicodeDecodeError):  # .git/info/exclude, read to add autodev's lines
            problem = f"a file it reads is not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
        elif isinstance(exc, OSError):
            where = f" {exc.filename}" if exc.filename else ""
            problem = f"{exc.strerror or exc}{':' if where else ''}{where}"
        else:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return UserError(f"could not set up the run in {self.repo}: {problem}", hint=SETUP_HINT)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
