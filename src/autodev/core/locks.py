"""Advisory file locks: one per run (who is working on it), one per repository (shared git state).

A run holds `runs/<id>/lock` for as long as its process lives. The kernel drops a `flock` when the
process dies, however it dies (SIGKILL included), so "is anybody working on this run?" has an exact
answer without trusting a pid file or a `status` that a killed process could not update.
The repository lock serialises the few operations that touch state every run shares: creating and
removing worktrees and branches, and `.git/info/exclude`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from autodev.core.errors import UserError


class LockHeld(UserError):
    """Somebody else holds the lock."""


class FileLock:
    """An exclusive `flock` on `path`; the holder's pid is written into the file for messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, blocking: bool = False) -> bool:
        """True when acquired; False when another process holds it (non-blocking)."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire(blocking=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: Path) -> int | None:
    """The pid holding the lock at `path`, or None when nobody does (a dead holder doesn't count)."""
    if not path.exists():
        return None
    probe = FileLock(path)
    if probe.acquire():
        probe.release()
        return None
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return -1
    return int(text) if text.isdigit() else -1


def run_lock_path(run_dir: Path) -> Path:
    return run_dir / "lock"


PROBE_GRACE_S = 2.0  # how long a run waits out `holder` probes before it calls its lock taken


def acquire_run_lock(run_dir: Path, run_id: str) -> FileLock:
    """The run's lock, or a clear error naming the process that has it.

    `holder` (autodev status, the MCP server) tests the lock by taking it for an instant: met at that
    instant, the lock is tried again for a moment instead of refusing the run as in use.
    """
    lock = FileLock(run_lock_path(run_dir))
    deadline = time.monotonic() + PROBE_GRACE_S
    while not lock.acquire() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not lock.held:
        pid = holder(lock.path)
        who = f"process {pid}" if pid and pid > 0 else "another process"
        raise LockHeld(
            f"run {run_id} is in use by {who}",
            hint="wait for it to finish (autodev report shows its progress), or stop that process first",
        )
    return lock


@contextlib.contextmanager
def repo_lock(git_common_dir: Path) -> Iterator[None]:
    """Serialise shared git operations across processes; lives in the git dir, so `git status` never shows it."""
    with FileLock(git_common_dir / "autodev.lock"):
        yield
