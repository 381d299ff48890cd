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

from scripts import CALC_FILES

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
    return repo


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_line(proc: subprocess.Popen[str], marker: str, timeout: float = 300.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if marker in line:
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"the worker exited with {proc.returncode} before it was ready")
    raise AssertionError(f"no {marker!r} from the worker within {timeout:.0f} s")


def stamped_worker(
    address: str, queue: str, workdir: Path, log: Path, *, activities: int = 4, sticky_s: float = 1.0
) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "autodev.apps.bench.batch", "worker", "--scripted", "--address", address,
        "--task-queue", queue, "--workdir", str(workdir), "--log", str(log), "--activities", str(activities),
        "--sticky-s", str(sticky_s),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), preexec_fn=die_with_parent()
    )
    _wait_line(proc, "autodev-bench-worker-ready")
    return proc


def cli_worker(address: str, queue: str, workdir: Path, repo: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "autodev", "worker", "--address", address, "--task-queue", queue,
        "--workdir", str(workdir), "--repo", str(repo),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), preexec_fn=die_with_parent()
    )
    _wait_line(proc, "polling task queue")
    return proc


_ENDED_ON_PURPOSE: set[int] = set()  # pids of workers a test stops or kills itself


def stop(proc: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    """SIGTERM, as an operator would; returns the exit code and what it wrote to stderr."""
    _ENDED_ON_PURPOSE.add(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return proc.returncode, stderr


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
            _, stderr = proc.communicate()
            raise AssertionError(
                f"worker {proc.pid} ended by itself (exit {proc.returncode}): {stderr[-3000:]}"
            ) from None
        raise
    finally:
        over.set()
        watcher.join()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def stamps(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
