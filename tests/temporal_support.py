"""Helpers for the Temporal tests: repositories with a scripted provider, and worker processes.

Workers run as real processes (so one can be killed with SIGKILL, and two can prove a limit is not
per process) that die with the test run, even when it is SIGKILLed. `stamped_worker` runs the
bench's worker (`python -m autodev.apps.bench.batch worker --scripted`): the repository's script,
with every model request logged as it reaches the model — after every limiter — with its time,
agent and process id. `cli_worker` runs `autodev worker`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scripts import CALC_FILES, trust_repo

from autodev.core.process import die_with_parent

GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def temporal_repo(
    root: Path,
    script: Mapping[str, Any],
    *,
    config: str = "",
    temporal: str = "",
    files: Mapping[str, str] | None = None,
    name: str = "repo",
) -> Path:
    """The calculator repository, its config naming a committed script; `temporal` is the [temporal] table."""
    repo = root / name
    repo.mkdir(parents=True)
    contents = dict(CALC_FILES)
    settings = contents[".autodev/config.toml"] + 'provider = "scripted"\nscript = "script.json"\n' + config
    if temporal:
        settings += "\n[temporal]\n" + temporal
    contents[".autodev/config.toml"] = settings
    contents["script.json"] = json.dumps(dict(script))  # JSON: a 3 MB reply loads in milliseconds
    contents.update(files or {})
    for rel, text in contents.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "initial")
    trust_repo(repo)  # the test wrote its settings; workers get the approval through the run's options
    return repo


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


_OUTPUT: dict[int, Path] = {}  # pid -> the file a worker writes its stdout and stderr to


def _start(command: list[str], workdir: Path, marker: str, timeout: float = 300.0) -> subprocess.Popen[str]:
    """Start a worker writing to a file, never to a pipe: a pipe nobody drains fills at 64 KB (a busy
    machine's Temporal warnings and tracebacks reach that) and the worker then blocks on its next
    write, holding every workflow. Returns once `marker` appears; fails with the output if it
    exits first or `timeout` passes."""
    output = workdir.parent / f"{workdir.name}-output.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, text=True, env=_env(), preexec_fn=die_with_parent()
        )
    _OUTPUT[proc.pid] = output
    deadline = time.monotonic() + timeout
    while marker not in output.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited with {proc.returncode} before it was ready: {output_of(proc)}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"no {marker!r} from the worker within {timeout:.0f} s: {output_of(proc)}")
        time.sleep(0.1)
    return proc


def output_of(proc: subprocess.Popen[str], tail: int = 3000) -> str:
    """The end of what a worker wrote so far (stdout and stderr together)."""
    return _OUTPUT[proc.pid].read_text(encoding="utf-8", errors="replace")[-tail:]


def stamped_worker(
    address: str, queue: str, workdir: Path, log: Path, *, activities: int = 4, sticky_s: float = 1.0
) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "autodev.apps.bench.batch", "worker", "--scripted", "--address", address,
        "--task-queue", queue, "--workdir", str(workdir), "--log", str(log), "--activities", str(activities),
        "--sticky-s", str(sticky_s),
    ]  # fmt: skip
    return _start(command, workdir, "autodev-bench-worker-ready")


def cli_worker(address: str, queue: str, workdir: Path, repo: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "autodev", "worker", "--address", address, "--task-queue", queue,
        "--workdir", str(workdir), "--repo", str(repo),
    ]  # fmt: skip
    return _start(command, workdir, "polling task queue")


_ENDED_ON_PURPOSE: set[int] = set()  # pids of workers a test stops or kills itself


def stop(proc: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    """SIGTERM, as an operator would; returns the exit code and what it wrote."""
    _ENDED_ON_PURPOSE.add(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.returncode, output_of(proc, tail=100_000)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a worker on purpose (a crash the test stages)."""
    _ENDED_ON_PURPOSE.add(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def running(*procs: subprocess.Popen[str]) -> Iterator[None]:
    """Workers for the block, killed after it. A worker that ends by itself meanwhile interrupts the
    test (a batch would otherwise wait forever for a worker that is gone) and fails it with the
    worker's exit code and stderr."""
    over = threading.Event()
    died: list[subprocess.Popen[str]] = []

    def watch() -> None:
        while not over.wait(0.2):
            gone = [p for p in procs if p.poll() is not None and p.pid not in _ENDED_ON_PURPOSE]
            if gone:
                died.extend(gone)
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # wakes a blocked wait
                return

    watcher = threading.Thread(target=watch, name="worker-watchdog", daemon=True)
    watcher.start()
    try:
        yield
    except BaseException:
        if died:
            proc = died[0]
            why = f"worker {proc.pid} ended by itself (exit {proc.returncode}): {output_of(proc)}"
            raise AssertionError(why) from None
        raise
    finally:
        over.set()
        watcher.join()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def stamps(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
