"""Running programs: the environment they get, and one runner with capped output and one set of kill rules.

Every program autodev runs for an agent (the Bash tool, the project's tests, the analysers' scanners)
goes through `run_process`. It takes an argument list (never a shell), starts the program in a new
session (its own process group), reads its output as it comes into a `HeadTail` (the first and last
bytes and a count, so a program printing gigabytes costs kilobytes), and stops it by one set of rules:

1. on timeout or cancellation, and after a normal exit when something the program started is still in
   its group: SIGTERM the whole group, give it `TERM_GRACE_S` to go, then SIGKILL the group;
2. then read what is left of the output for at most `DRAIN_GRACE_S`: a process that left the group
   (`setsid`, a daemon) may hold the pipe open forever, and must not hold the caller too.

`Command` is the seam for confinement: a jail is a `Confine` function that rewrites the argument list
(a prefix such as `bwrap ... --`) and the environment before the program starts; the kill rules and
the output capture stay the same whatever runs the program.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

TERM_GRACE_S = 1.0  # after SIGTERM, how long the group has to end before SIGKILL
DRAIN_GRACE_S = 2.0  # after the group is gone, how long a detached process may keep the output open
_GROUP_POLL_S = 0.02  # how often a stopping group is checked (there is no event for "the group is empty")

_live_groups: dict[int, int] = {}  # the process group of every running program -> the thread that started it
_stopped_by: list[int] = []  # the thread that called `stop_programs` (empty: autodev is not stopping)


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


_PRCTL = _prctl()  # looked up before any fork: the child only calls it
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGKILL the child when its parent dies, even by SIGKILL.

    For servers started in the foreground of a process that may be killed (the Temporal dev server of
    a test run or a benchmark): nothing else stops them when their parent can't. None where the kernel
    has no such option. The parent is the *thread* that started the child: start it from a thread that
    lives as long as the child should.
    """
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the parent died before the wish was registered
            os._exit(1)

    return arm


@dataclass(frozen=True)
class Command:
    """What to run, where, and with which environment (taken as is: a jail builds it from its allow-list)."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]

    @classmethod
    def of(cls, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Command:
        return cls(tuple(argv), cwd, dict(env))

    def prefixed(self, *prefix: str, env: Mapping[str, str] | None = None) -> Command:
        """This command run by another program (a jail), with `env` replacing the environment if given."""
        return replace(self, argv=(*prefix, *self.argv), env=dict(self.env if env is None else env))


Confine = Callable[[Command], Command]


def unconfined(command: Command) -> Command:
    return command


class HeadTail:
    """The first `head_cap` and the last `tail_cap` bytes of a stream, and how many bytes it had."""

    def __init__(self, head_cap: int, tail_cap: int) -> None:
        self.head_cap, self.tail_cap = head_cap, tail_cap
        self.head, self.tail = bytearray(), bytearray()
        self.total = 0

    @classmethod
    def everything(cls) -> HeadTail:
        """No cap: for output that is parsed whole (a scanner's JSON report)."""
        return cls(2**62, 0)

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def decoded(self) -> str:
        """Head and tail as text, with nothing marking a gap (the caller's rendering does that)."""
        return (bytes(self.head) + bytes(self.tail)).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Finished:
    """How a program ended: its exit code (None when it timed out; negative: killed by that signal)."""

    exit_code: int | None
    timed_out: bool


async def run_process(
    command: Command,
    timeout_s: float,
    output: HeadTail,
    errors: HeadTail | None = None,
    confine: Confine = unconfined,
) -> Finished:
    """Run `command` to its end or `timeout_s`; stdout (and stderr, unless `errors` takes it) go to `output`.

    Raises OSError when the program can't start. The process group never outlives this call, whether
    it returns, raises or is cancelled.
    """
    run = confine(command)
    # Shielded: a cancellation while the program starts (the run ends, a sibling failed) would come after
    # the fork, and asyncio then kills the program alone, leaving what it already started (a jail's init,
    # whose own die-with-parent races with that kill: bubblewrap #633) in a group nobody stops. Started,
    # the program is stopped with its whole group by the `finally` below.
    with anyio.CancelScope(shield=True):
        process = await anyio.open_process(
            list(run.argv),
            cwd=run.cwd,
            env=dict(run.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if errors is None else subprocess.PIPE,
            start_new_session=True,
        )
    streams = [(process.stdout, output), (process.stderr, errors)]
    timed_out = False
    _live_groups[process.pid] = threading.get_ident()
    if _stopped_by and _stopped_by[0] != threading.get_ident():  # started by a worker as autodev stops
        _kill_group(process.pid)
    try:
        async with anyio.create_task_group() as group:
            drained: list[anyio.Event] = []
            for stream, sink in streams:
                if stream is not None and sink is not None:
                    drained.append(anyio.Event())
                    group.start_soon(_drain, stream, sink, drained[-1])
            with anyio.move_on_after(timeout_s) as scope:
                await process.wait()
            timed_out = scope.cancelled_caught
            await stop_group(process)  # stragglers too: a server a test started and never stopped
            with anyio.move_on_after(DRAIN_GRACE_S):
                for done in drained:
                    await done.wait()
            group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await stop_group(process)
            await process.aclose()
        _live_groups.pop(process.pid, None)
    return Finished(None if timed_out else process.returncode, timed_out)


def stop_programs() -> None:
    """Autodev is stopping (SIGTERM, SIGHUP): end the programs worker threads run, now and from now on.

    Called from the signal handler, in the thread whose event loop the stop cancels: the programs it
    started end through that cancellation (`run_process` stops their groups as it unwinds, after the
    task that waits on them is cancelled, so no step mistakes a killed test run for a failed one). A
    program run from a worker thread (an analyser's scanner, on an event loop of its own) is out of the
    cancellation's reach, and the cancelled step waits for its thread: it is killed here instead.
    """
    me = threading.get_ident()
    _stopped_by[:] = [me]
    for pgid, owner in list(_live_groups.items()):
        if owner != me:
            _kill_group(pgid)


def end_programs() -> None:
    """The command is over: kill whatever program is still running (none should be), and stop stopping."""
    for pgid in list(_live_groups):
        _kill_group(pgid)
    _live_groups.clear()
    _stopped_by.clear()


def _kill_group(pgid: int) -> None:
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, getattr(signal, "SIGKILL", signal.SIGTERM))


async def _drain(stream: ByteReceiveStream, sink: HeadTail, done: anyio.Event) -> None:
    try:
        async for chunk in stream:
            sink.feed(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
    finally:
        done.set()


async def stop_group(process: Process) -> None:
    """SIGTERM the process's group, wait up to `TERM_GRACE_S` for it to empty, SIGKILL what is left.

    Returns at once when the program has ended and left nothing behind in its group.
    """
    if process.returncode is not None and not _group_alive(process.pid):
        return
    _signal_group(process, signal.SIGTERM)
    with anyio.move_on_after(TERM_GRACE_S):
        await process.wait()
        while _group_alive(process.pid):
            await anyio.sleep(_GROUP_POLL_S)
    _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
    await process.wait()


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie doesn't count: bubblewrap leaves the jail's
    first process unreaped when it exits (bubblewrap #697), and signalling the group would find it."""
    if not hasattr(os, "killpg"):
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return _running_in_group(pgid) if _PROC.is_dir() else True


_PROC = Path("/proc")


def _running_in_group(pgid: int) -> bool:
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(process: Process, signum: signal.Signals) -> None:
    """Signal the whole group (the program alone on a system without process groups)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
    elif process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
