"""Servers a test run starts die with it, even when the run is SIGKILLed (a CI timeout, an OOM kill).

A process SIGKILLed gets no chance to clean up, so the kernel must do it: the dev server is started
with PR_SET_PDEATHSIG. Waiting is event-driven: a pidfd becomes readable the moment its process ends.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from autodev.core.process import die_with_parent

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"), reason="PR_SET_PDEATHSIG and pidfds"
)

BOUND_S = 120.0  # only a broken build waits this long


def wait_ended(pid: int) -> bool:
    """True once `pid` has ended (whoever reaps it); False if it is still running after BOUND_S."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], BOUND_S)
        return bool(readable)
    finally:
        os.close(fd)


def parent_that_starts(code: str) -> tuple[subprocess.Popen[str], int]:
    """A python process running `code`, which prints the pid of what it started; (process, that pid)."""
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    line = parent.stdout.readline()  # blocks until the child is up and named
    assert line.strip().isdigit(), line
    return parent, int(line)


def test_a_child_started_with_die_with_parent_dies_when_its_parent_is_sigkilled() -> None:
    assert die_with_parent() is not None
    parent, child = parent_that_starts(
        """
        import subprocess, sys, time
        from autodev.core.process import die_with_parent
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=die_with_parent())
        print(child.pid, flush=True)
        time.sleep(600)
        """
    )
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert wait_ended(child)


def test_the_temporal_dev_server_dies_when_the_test_run_is_sigkilled() -> None:
    pytest.importorskip("temporalio")
    from autodev.engines.temporal.devserver import temporal_binary

    try:
        temporal_binary()
    except Exception:
        pytest.skip("the Temporal CLI is not installed")
    parent, server = parent_that_starts(
        """
        import time
        from autodev.engines.temporal.devserver import DevServer
        with DevServer() as dev:
            print(dev._proc.pid, flush=True)
            time.sleep(600)
        """
    )
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert wait_ended(server)
