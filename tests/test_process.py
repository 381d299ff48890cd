"""The one process runner: argv in, capped output out, and one set of kill rules for the whole group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from autodev.core.process import Command, Finished, HeadTail, run_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and signals are POSIX")

NEVER_S = 120.0  # a bound that only a broken runner reaches


def gone(pid: int) -> bool:
    """True when `pid` has ended (a zombie waiting for init to reap it counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def run(argv: list[str], timeout_s: float = NEVER_S, **kwargs: object) -> tuple[Finished, str]:
    output = HeadTail.everything()

    async def main() -> Finished:
        with anyio.fail_after(NEVER_S * 2):
            command = Command.of(argv, Path.cwd(), {"PATH": os.environ["PATH"]})
            return await run_process(command, timeout_s, output, **kwargs)  # type: ignore[arg-type]

    return anyio.run(main), output.decoded()


def test_output_and_exit_code() -> None:
    finished, text = run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); exit(3)"])
    assert finished == Finished(3, False)
    assert sorted(text.split()) == ["err", "out"]  # stderr goes with stdout unless asked apart


def test_stderr_apart_when_asked() -> None:
    errors = HeadTail.everything()
    finished, text = run(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"], errors=errors
    )
    assert finished.exit_code == 0 and text == "out\n" and errors.decoded() == "err\n"


def test_output_past_the_cap_keeps_head_tail_and_count() -> None:
    capped = HeadTail(4, 3)
    for chunk in (b"ab", b"cdefgh", b"ijk"):
        capped.feed(chunk)
    assert (bytes(capped.head), bytes(capped.tail), capped.total, capped.dropped) == (b"abcd", b"ijk", 11, 4)


def stopped_once_started(argv: list[str]) -> tuple[str, Finished | None]:
    """Run `argv`, and cancel the call as soon as the program has printed something (the event it started)."""
    output = HeadTail.everything()
    finished: list[Finished] = []

    async def run_it() -> None:
        finished.append(await run_process(Command.of(argv, Path.cwd(), {"PATH": os.environ["PATH"]}), NEVER_S, output))

    async def main() -> None:
        with anyio.fail_after(NEVER_S * 2):
            async with anyio.create_task_group() as group:
                group.start_soon(run_it)
                while not output.total:
                    await anyio.sleep(0.01)
                group.cancel_scope.cancel()

    anyio.run(main)
    return output.decoded(), (finished[0] if finished else None)


def test_a_program_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    script = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(os.getpid(), flush=True); time.sleep(600)"
    )
    text, finished = stopped_once_started([sys.executable, "-c", script])
    assert finished is None  # cancelled, and yet ...
    assert gone(int(text.split()[0]))  # ... SIGKILL followed the ignored SIGTERM


def test_a_timeout_stops_the_program_and_says_so() -> None:
    finished, _ = run(["sleep", "600"], timeout_s=0.5)
    assert finished == Finished(None, True)


def test_what_a_finished_program_left_in_its_group_is_stopped() -> None:
    finished, text = run(["sh", "-c", "sleep 600 & echo $!"])
    assert finished == Finished(0, False)
    assert gone(int(text.split()[0]))


def test_a_detached_process_holding_the_output_open_does_not_hold_the_caller() -> None:
    """It left the group (setsid), so the kill rules can't reach it; the runner stops reading instead.

    The parent ends only once its child has left the group: a parent that ended first could have its
    child stopped with the group before the child's setsid (on a busy machine the child's pid was never
    printed), which is the kill rules working, not the case this test is about."""
    script = (
        "import os, sys, time\n"
        "left, told = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); print(os.getpid(), flush=True); os.write(told, b'x'); time.sleep(600)\n"
        "else:\n"
        "    os.read(left, 1); print('parent done', flush=True)\n"
    )
    finished, text = run([sys.executable, "-c", script])
    assert finished == Finished(0, False) and "parent done" in text
    detached = int(next(word for word in text.split() if word.isdigit()))
    os.kill(detached, signal.SIGKILL)


def test_cancelling_the_caller_kills_the_group() -> None:
    text, finished = stopped_once_started(["sh", "-c", "echo $$; sleep 600"])
    assert finished is None and gone(int(text.split()[0]))


def test_a_confinement_rewrites_the_command_before_it_starts() -> None:
    """The seam a jail uses: a prefix program and an environment of its own."""
    command = Command.of([sys.executable, "-c", "import os; print(os.environ['INSIDE'])"], Path.cwd(), {})
    output = HeadTail.everything()

    def confine(command: Command) -> Command:
        return command.prefixed("env", "INSIDE=jail", env={"PATH": os.environ["PATH"]})

    finished = anyio.run(run_process, command, NEVER_S, output, None, confine)
    assert finished.exit_code == 0 and output.decoded() == "jail\n"


def test_a_group_whose_only_member_is_a_zombie_counts_as_ended() -> None:
    """bubblewrap leaves the jail's first process unreaped (bubblewrap #697), still in the group: counted
    as running, it made every jailed program wait out the stop grace (1 s to 2 s a run instead of ms)."""
    from autodev.core.process import _group_alive

    child = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    try:
        for _ in range(2000):  # until it has exited (not reaped: a zombie), without sleeping a fixed time
            if Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            os.sched_yield()
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert not _group_alive(child.pid)
    finally:
        child.wait()


def test_a_cancellation_while_the_program_starts_still_stops_its_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The run ended while a jailed program was starting: asyncio killed the program alone (bubblewrap)
    and what it had started (the jail's init) stayed in a group nobody stopped. The real `open_process`
    here is followed by one more checkpoint, as its own pipe setup has, so the cancellation lands there."""
    real_open = anyio.open_process
    started = tmp_path / "child-pid"

    async def open_then_checkpoint(*args: object, **kwargs: object) -> object:
        process = await real_open(*args, **kwargs)  # type: ignore[arg-type]
        with anyio.fail_after(NEVER_S):
            while not started.exists() or not started.read_text().strip():
                await anyio.sleep(0.01)  # the program has started its child; a cancellation lands here
        return process

    monkeypatch.setattr(anyio, "open_process", open_then_checkpoint)
    command = Command.of(["sh", "-c", f"sleep 600 & echo $! > {started}; wait"], Path.cwd(), dict(os.environ))

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()  # cancelled before the program even starts
            await run_process(command, NEVER_S, HeadTail.everything())

    anyio.run(main)
    child = int(started.read_text())
    try:
        assert gone(child), "the program's child outlived a cancelled start"
    finally:
        if not gone(child):
            os.kill(child, signal.SIGKILL)
