"""SIGTERM and SIGHUP stop a run the way Ctrl-C does: state saved, every program it started ended,
exit 130 with the command that resumes it.

The end-to-end tests start `autodev run` as a real program (scripted provider) on a repository whose
test step blocks on a FIFO nobody ever opens for writing, so the signal always lands while the project's
tests run, whatever this machine's speed. Every process of the run's tree carries a marker (in its
environment, passed into the jail by `[sandbox] env`), and the tree is also walked through /proc
before the signal: after the exit, none of them may be left. A fixture kills whatever carries the
marker even when a test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripts import CALC_FILES, REQUEST, append_to, feature_script, final, tools

from autodev.apps.cli import stopping
from autodev.core import process as processes
from autodev.core.process import Command, HeadTail, die_with_parent, run_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")

MARKER_NAME = "AUTODEV_STOP_TEST_MARKER"
STARTED = "blocking.started"  # the blocking test touches it next to itself, then waits forever
BLOCKING_TEST = (
    "\n\nclass BlockingTests(unittest.TestCase):\n"
    "    def test_waits_for_a_writer_that_never_comes(self):\n"
    "        import os, pathlib, tempfile\n"
    f"        pathlib.Path(__file__).with_name({STARTED!r}).touch()\n"
    "        fifo = os.path.join(tempfile.mkdtemp(), 'never')\n"
    "        os.mkfifo(fifo)\n"
    "        open(fifo).read()\n"
)
BOUND_S = 60.0  # a bound only a broken run reaches


# ------------------------------------------------------------------------------------------ the tree
def start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat): a pid plus it names one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def children_map() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
            found.setdefault(ppid, []).append(int(entry.name))
    return found


def tree_of(root: int) -> dict[int, str]:
    """`root` and every descendant, each with its start time."""
    kids, seen, todo = children_map(), {}, [root]
    while todo:
        pid = todo.pop()
        started = start_time(pid)
        if started is not None:
            seen[pid] = started
            todo.extend(kids.get(pid, []))
    return seen


def marked(marker: str) -> set[int]:
    """Every live process whose environment carries the marker."""
    found = set()
    needle = f"{MARKER_NAME}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes() and start_time(int(entry.name)) is not None:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def still_alive(snapshot: dict[int, str]) -> list[int]:
    return [pid for pid, started in snapshot.items() if start_time(pid) == started]


# ------------------------------------------------------------------------------------------ fixtures
@dataclass
class BlockingRun:
    repo: Path
    script: Path
    marker: str
    started: list[subprocess.Popen[bytes]]
    seen: dict[int, str]  # every process of a run's tree seen so far, with its start time

    def start(self, *, ignore_sigint: bool, tty: int | None = None, **io: Any) -> subprocess.Popen[bytes]:
        """`autodev run` in a session of its own, like a job a shell started; `ignore_sigint` as a shell
        starts a background job (`cmd &`); `tty`: its controlling terminal (the one a closed window hangs up)."""
        arm = die_with_parent()

        def prepare() -> None:
            if arm is not None:
                arm()
            signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_sigint else signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            if tty is not None:
                fcntl.ioctl(tty, termios.TIOCSCTTY, 0)

        argv = [sys.executable, "-m", "autodev", "run", REQUEST, "--repo", str(self.repo)]
        argv += ["--provider", "scripted", "--script", str(self.script)]
        process = subprocess.Popen(
            argv, env={**os.environ, MARKER_NAME: self.marker}, start_new_session=True, preexec_fn=prepare, **io
        )
        self.started.append(process)
        return process

    def wait_until_tests_block(self, process: subprocess.Popen[bytes]) -> dict[int, str]:
        """Wait until the blocking test runs; the run's process tree at that moment."""
        deadline = time.monotonic() + BOUND_S
        while not list((self.repo / ".autodev" / "worktrees").glob(f"*/tests/{STARTED}")):
            assert process.poll() is None, f"the run ended (exit {process.returncode}) before its tests blocked"
            assert time.monotonic() < deadline, "the blocking test never started"
            time.sleep(0.02)
        tree = tree_of(process.pid)
        self.seen.update(tree)
        assert len(tree) > 1, "the run's test process is not in its tree"
        return tree

    def state(self) -> dict[str, Any]:
        (state_file,) = (self.repo / ".autodev" / "runs").glob("*/state.json")
        loaded: dict[str, Any] = json.loads(state_file.read_text())
        return loaded


@pytest.fixture
def blocking_run(make_repo: Callable[..., Path], tmp_path: Path) -> Iterator[BlockingRun]:
    files = dict(CALC_FILES)
    files[".autodev/config.toml"] += f'\n[sandbox]\nenv = ["{MARKER_NAME}"]\n'
    repo = make_repo(files)
    anchor = "self.assertEqual(add(2, 3), 5)\n"
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            feature_script(
                {"test-master": [tools(append_to("tests/test_calc.py", anchor, BLOCKING_TEST)), final("## Tests\n")]}
            )
        )
    )
    run = BlockingRun(repo, script, uuid.uuid4().hex, [], {})
    try:
        yield run
    finally:  # nothing this test started outlives it, whatever happened
        for process in run.started:
            for pid in (process.pid, *marked(run.marker), *still_alive(run.seen)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)  # its group: the run is a session leader
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)  # a program in a group of its own
            process.wait(timeout=BOUND_S)


def assert_stopped_like_ctrl_c(run: BlockingRun, process: subprocess.Popen[bytes], tree: dict[int, str]) -> None:
    assert process.returncode == 130
    state = run.state()
    assert state["status"] == "interrupted" and state["error"] == "interrupted"
    assert state["agents"]["implementer"]["status"] == "done"  # what was done stays done: resume goes on
    assert still_alive(tree) == [], "a process of the run outlived it"
    assert marked(run.marker) == set(), "a process the run started outlived it"


# ------------------------------------------------------------------------------------------ end to end
def test_sigterm_stops_a_background_run_like_ctrl_c(blocking_run: BlockingRun) -> None:
    """`autodev run ... &` then `kill PID`: a background job ignores SIGINT, so SIGTERM can't just be one."""
    process = blocking_run.start(ignore_sigint=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree = blocking_run.wait_until_tests_block(process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=BOUND_S)
    assert_stopped_like_ctrl_c(blocking_run, process, tree)
    run_id = blocking_run.state()["run_id"]
    assert f"autodev resume {run_id} --repo {blocking_run.repo}" in err.decode()


def test_closing_the_terminal_stops_a_run_like_ctrl_c(blocking_run: BlockingRun) -> None:
    """The window is closed: the kernel sends SIGHUP and the terminal answers every write with EIO.
    Standard output is that terminal; standard error a pipe, to read the resume command from."""
    primary, secondary = pty.openpty()
    try:
        process = blocking_run.start(
            ignore_sigint=False, tty=secondary, stdin=secondary, stdout=secondary, stderr=subprocess.PIPE
        )
    finally:
        os.close(secondary)
    try:
        tree = blocking_run.wait_until_tests_block(process)
    finally:
        os.close(primary)  # the hang-up
    _, err = process.communicate(timeout=BOUND_S)
    assert_stopped_like_ctrl_c(blocking_run, process, tree)
    assert f"autodev resume {blocking_run.state()['run_id']}" in err.decode()


# ------------------------------------------------------------------------------------------ units
@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_with_sigint_ignored_sigterm_cancels_every_task_and_then_interrupts(sigint_ignored: None) -> None:
    """Without Ctrl-C armed, the stop surfaces at the loop's top, so each task unwinds by cancellation."""
    unwound: list[str] = []

    async def waiter() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            unwound.append("waiter")
            raise

    async def main() -> None:
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        try:
            stopping.stop_like_ctrl_c(signal.SIGTERM, None)
            await task
        except asyncio.CancelledError:
            unwound.append("main")
            raise

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    processes.end_programs()
    assert sorted(unwound) == ["main", "waiter"]


def test_with_ctrl_c_armed_sigterm_runs_what_ctrl_c_runs() -> None:
    """asyncio.run arms its own SIGINT handler (cancel the main task): SIGTERM calls that very handler."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the suite's conftest arms it

    async def main() -> None:
        stopping.stop_like_ctrl_c(signal.SIGTERM, None)
        await asyncio.Event().wait()

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    processes.end_programs()


def test_without_an_event_loop_sigterm_raises_keyboard_interrupt(sigint_ignored: None) -> None:
    with pytest.raises(KeyboardInterrupt):
        stopping.stop_like_ctrl_c(signal.SIGTERM, None)
    processes.end_programs()


def test_a_stop_kills_the_programs_worker_threads_run() -> None:
    """An analyser runs its scanner on an event loop of its own in a worker thread, which no
    cancellation reaches: the stop kills the program, so the thread (that the run waits for) ends."""
    output = HeadTail.everything()
    results: list[int | None] = []
    command = Command.of([sys.executable, "-c", "import signal; signal.pause()"], Path.cwd(), os.environ)

    async def scanner() -> None:
        with anyio.fail_after(BOUND_S):
            results.append((await run_process(command, BOUND_S, output)).exit_code)

    def worker() -> None:
        anyio.run(scanner)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + BOUND_S
        while not processes._live_groups and time.monotonic() < deadline:
            time.sleep(0.01)
        processes.stop_programs()
        thread.join(BOUND_S)
        assert not thread.is_alive()
        assert results == [-signal.SIGKILL]
        assert processes._live_groups == {}
    finally:
        processes.end_programs()
        thread.join(BOUND_S)


def test_nohup_keeps_sighup_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stopping.stopped_by_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is stopping.stop_like_ctrl_c
        assert signal.getsignal(signal.SIGTERM) is not stopping.stop_like_ctrl_c
    finally:
        signal.signal(signal.SIGHUP, previous)
