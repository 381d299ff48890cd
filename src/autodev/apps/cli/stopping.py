"""SIGTERM and SIGHUP stop a command the way Ctrl-C does: a run saves its state, ends the programs it
started and exits 130 with the command that resumes it.

Turning the signal into a SIGINT is not enough: a shell starts a background job (`autodev run ... &`)
with SIGINT ignored, so `kill PID` would do nothing, and closing the terminal (SIGHUP, by default an
immediate death) would leave the run's test process behind. Instead, the handler does what Ctrl-C's
handler would, whatever SIGINT's disposition:

- an event loop run by `asyncio.Runner` (every `anyio.run`) with Ctrl-C armed: its own SIGINT handler
  is called, which cancels the main task, exactly as a Ctrl-C would;
- any other running event loop (SIGINT ignored, so the runner armed nothing): `KeyboardInterrupt` is
  raised from a callback of the loop itself, never inside a task; the runner then cancels every task
  and lets each one unwind (state saved, process groups stopped) before the interrupt reaches the command;
- no event loop: `KeyboardInterrupt` where the program is, as Ctrl-C raises it.

Programs that worker threads run on event loops of their own (the analysers' scanners) are out of the
cancellation's reach: `autodev.core.process.stop_programs` kills them, so their threads, which the
cancelled step waits for, end at once. A signal that was ignored when autodev started (`nohup`) stays
ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import stat
import threading
from collections.abc import Iterator
from types import FrameType

from autodev.core.process import end_programs, stop_programs

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """The handler of SIGTERM and SIGHUP (see the module's docstring)."""
    stop_programs()
    if signum == getattr(signal, "SIGHUP", None):
        _quiet_hung_up_terminal()
    ctrl_c = signal.getsignal(signal.SIGINT)
    if isinstance(ctrl_c, functools.partial):  # asyncio.Runner's: cancels the main task, a second one raises
        ctrl_c(signal.SIGINT, frame)
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise KeyboardInterrupt from None
    loop.call_soon_threadsafe(_interrupt)


def _quiet_hung_up_terminal() -> None:
    """The terminal was closed: writing to it fails (EIO), and the run's last words would end it with a
    traceback and exit 1 instead of 130. Output that can reach no one goes to /dev/null instead."""
    try:
        null = os.stat(os.devnull).st_rdev
    except OSError:
        return
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            info = os.fstat(fd)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev != null and not os.isatty(fd):  # a hung-up terminal
                target = os.open(os.devnull, os.O_WRONLY)
                os.dup2(target, fd)
                os.close(target)


def _interrupt() -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """While the command runs, SIGTERM and SIGHUP stop it like Ctrl-C; when it ends, no program it
    started is left running and the previous handlers are back."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous: dict[int, signal.Handlers | object] = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup autodev ...` outlives its terminal
            previous[signum] = signal.signal(signum, stop_like_ctrl_c)
    try:
        yield
    finally:
        end_programs()
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
