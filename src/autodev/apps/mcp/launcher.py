"""Runs the server starts: each an ordinary `autodev run` or `autodev resume` process in a session of its own.

Detached on purpose: the client (and with it this server) may go away at any time, and the run must
go on, write its state.json and metrics like any other run, and stay visible to `autodev status`. So
the process gets no pipe to the server: its output goes to `mcp.log` in the run's directory, and the
server learns everything else from the disk (state.json, and the run lock that names the process
working on the run). Its run id is chosen here and passed with `autodev run --run-id`, so the client
gets it at once. A cancel is a SIGTERM, which a run takes like Ctrl-C: it stops, saves its state, and
can be resumed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.locks import holder, repo_lock, run_lock_path
from autodev.core.redact import redact
from autodev.run.layout import RunPaths, load_state, new_run_id

LOG_NAME = "mcp.log"
START_TIMEOUT_S = 60.0  # a run is set up in about a second; this only bounds a machine under heavy load
STOP_TIMEOUT_S = 60.0
POLL_S = 0.05
USAGE_ERROR = 2  # `autodev run`/`resume` refused before writing anything (docs/exit-codes.md)


@dataclass(frozen=True)
class Started:
    """A run process that holds its run's lock (or was still setting up when the wait ended)."""

    run_id: str
    run_dir: Path
    pid: int
    log: Path
    working: bool  # it holds the run lock: past set-up, state.json written


def autodev_argv(*args: str) -> list[str]:
    """This installation's `autodev`, whatever PATH the client gave the server."""
    return [sys.executable, "-m", "autodev", *args]


async def start_run(root: Path, request: str, options_argv: list[str]) -> Started:
    """Start `autodev run REQUEST` in the background and wait until it is working on its run."""
    run_id = new_run_id()
    paths = RunPaths.for_run(root, run_id)
    await anyio.to_thread.run_sync(_exclude_run_files, root)
    pending = root / ".autodev" / "cache" / "mcp" / f"{run_id}.log"
    argv = autodev_argv("run", request, "--repo", str(root), "--run-id", run_id, "--json", *options_argv)
    process = _spawn(argv, root, pending)
    started = await _wait_working(process, paths.run_dir, pending, paths.state_file.is_file)
    log = paths.run_dir / LOG_NAME
    if paths.run_dir.is_dir():
        with contextlib.suppress(OSError):  # same file system: the process goes on writing to the moved file
            pending.rename(log)
            started = Started(run_id, paths.run_dir, process.pid, log, started.working)
            pending.parent.rmdir()  # when no other run is starting
    return started


async def resume_run(root: Path, run_dir: Path, options_argv: list[str]) -> Started:
    """Start `autodev resume RUN_ID` in the background; its output is appended to the run's log."""
    from autodev.engines.local.launch import load_stopped_run

    state = load_stopped_run(run_dir.name, root)  # not running, not done, resumable: else a UserError
    log = run_dir / LOG_NAME
    argv = autodev_argv("resume", state.run_id, "--repo", str(root), "--json", *options_argv)
    process = _spawn(argv, root, log)
    return await _wait_working(process, run_dir, log, lambda: _resumes(run_dir) > state.resumes)


async def cancel_run(run_dir: Path) -> bool:
    """SIGTERM to the process working on the run (a Ctrl-C for it); True once it let go of the run."""
    lock = run_lock_path(run_dir)
    pid = holder(lock)
    if pid is None:
        raise UserError(f"run {run_dir.name} is not running", hint="autodev_status shows its state")
    if pid <= 0:
        raise UserError(f"cannot tell which process works on run {run_dir.name}", hint="stop it from a terminal")
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signal.SIGTERM)
    with anyio.move_on_after(STOP_TIMEOUT_S):
        while holder(lock) is not None:
            await anyio.sleep(POLL_S)
    return holder(lock) is None


def _exclude_run_files(root: Path) -> None:
    """What a run does first, done before its log exists: `.autodev/cache/` (the log's home until the run
    directory exists) stays out of `git status`."""
    with repo_lock(gitops.common_dir(root)):
        gitops.ensure_excludes(root)


def _spawn(argv: list[str], root: Path, log: Path) -> subprocess.Popen[bytes]:
    """A process in a new session with no tie to the server's stdio; a thread reaps it when it ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    threading.Thread(target=process.wait, name=f"autodev-mcp-reap-{process.pid}", daemon=True).start()
    return process


async def _wait_working(
    process: subprocess.Popen[bytes], run_dir: Path, log: Path, ready: Callable[[], bool]
) -> Started:
    """Wait until `ready()` says `process` works on the run; if it ends first refusing to run (exit 2),
    its error (from the log) is a UserError.

    The lock is never probed here: `core.locks.holder` probes by taking the lock for an instant, and
    the pid in the file is no proof either (the process's own checks probe it before it takes it).
    What is proof is a state.json the process saved, which it does only once it holds the lock.
    """
    with anyio.move_on_after(START_TIMEOUT_S):
        while process.poll() is None:
            if ready():
                return Started(run_dir.name, run_dir, process.pid, log, True)
            await anyio.sleep(POLL_S)
    if process.poll() is None:  # still setting up on a slow machine: the client can poll its status
        return Started(run_dir.name, run_dir, process.pid, log, False)
    if process.returncode != USAGE_ERROR and (run_dir / "state.json").is_file():  # it ran, and ended already
        return Started(run_dir.name, run_dir, process.pid, log, True)
    message = failure_message(log)
    if not run_dir.exists():  # the run never started: nothing is left behind
        with contextlib.suppress(OSError):
            log.unlink()
            for directory in (log.parent, log.parent.parent, log.parent.parent.parent):
                directory.rmdir()  # .autodev/cache/mcp, cache, .autodev: each only when empty
    raise UserError(message)


def _resumes(run_dir: Path) -> int:
    """How many times the run was resumed, as its state.json says now (-1 while it cannot be read)."""
    try:
        return load_state(run_dir).resumes
    except UserError:
        return -1


def failure_message(log: Path) -> str:
    """The `error:` line (and its hint) a process that could not start left in its log."""
    try:
        text = log.read_bytes()[-4000:].decode("utf-8", "replace")
    except OSError:
        return "the run's process ended before it started"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("error:"):  # the CLI's one-line error, and its hint on the next line
            return redact("; ".join([line.removeprefix("error:").strip(), *lines[index + 1 : index + 2]]))
    return redact(" ".join(lines[-3:]) or "the run's process ended before it started")
