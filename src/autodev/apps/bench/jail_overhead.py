"""`autodev bench jail`: what the jail costs a gate run, measured on the demo project side by side.

The demo project's own test command runs in a worktree of a fresh copy, alternately jailed
(bubblewrap) and unconfined (sandbox off, the same filtered environment), through the one test
runner the gate uses. Alternating keeps a busy machine's drift out of the ratio; the median of each
side is compared, and the overhead is the median of the paired differences (a jailed run minus the
unconfined run next to it). Beside it, the jail's fixed cost alone: `true`, jailed and not. The
target: the jail adds under 5 % to a typical gate.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.apps.demo import make_demo_repo
from autodev.core import gitops
from autodev.run.gate.environment import detect
from autodev.run.gate.project_tests import run_tests
from autodev.sandbox.jail import Jail, SandboxPolicy, bubblewrap_problem, jail_for

TARGET_PERCENT = 5.0


@dataclass(frozen=True)
class JailOverhead:
    runs: int
    command: list[str]
    jailed_median_s: float
    unconfined_median_s: float
    overhead_s: float
    overhead_percent: float
    startup_jailed_ms: float
    startup_unconfined_ms: float
    target_percent: float
    within_target: bool
    all_passed: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _gate_times(jail: Jail, command: list[str], worktree: Path, runs: int) -> tuple[list[float], bool]:
    times, passed = [], True
    for _ in range(runs):
        outcome = asyncio.run(run_tests(command, worktree, 600.0, jail))
        times.append(outcome.duration_s)
        passed = passed and outcome.passed
    return times, passed


def _startup_ms(jail: Jail, cwd: Path, runs: int = 30) -> float:
    """Median time to start and end `true` in `jail`: the jail's fixed cost per program."""
    command = jail.command(["true"], cwd, {})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(list(command.argv), cwd=cwd, env=dict(command.env), capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def jail_benchmark(runs: int = 10) -> JailOverhead:
    """Raises `RuntimeError` with the reason when bubblewrap can't run here."""
    problem = bubblewrap_problem()
    if problem is not None:
        raise RuntimeError(problem)
    with tempfile.TemporaryDirectory(prefix="autodev-bench-jail-") as parent:
        repo = make_demo_repo(Path(parent))
        worktree = repo / ".autodev" / "worktrees" / "bench"
        gitops.git(["worktree", "add", "--quiet", "--detach", str(worktree)], repo)
        chosen = detect(repo, None)
        assert chosen is not None, "the demo project has tests"
        command = list(chosen.command)
        jailed = jail_for(SandboxPolicy(), worktree, repo)
        unconfined = jail_for(SandboxPolicy(mode="off"), worktree, repo)
        _gate_times(jailed, command, worktree, 1)  # warm both: imports compiled, pages cached
        _gate_times(unconfined, command, worktree, 1)
        with_jail: list[float] = []
        without: list[float] = []
        passed = True
        for _ in range(runs):  # alternate, so drift lands on both sides alike
            times, ok_jailed = _gate_times(jailed, command, worktree, 1)
            with_jail += times
            times, ok_free = _gate_times(unconfined, command, worktree, 1)
            without += times
            passed = passed and ok_jailed and ok_free
        startup_jailed, startup_free = _startup_ms(jailed, worktree), _startup_ms(unconfined, worktree)
    jailed_s, free_s = statistics.median(with_jail), statistics.median(without)
    overhead = statistics.median(j - u for j, u in zip(with_jail, without, strict=True))
    percent = overhead / free_s * 100 if free_s > 0 else 0.0
    return JailOverhead(
        runs=runs,
        command=command,
        jailed_median_s=jailed_s,
        unconfined_median_s=free_s,
        overhead_s=overhead,
        overhead_percent=percent,
        startup_jailed_ms=startup_jailed,
        startup_unconfined_ms=startup_free,
        target_percent=TARGET_PERCENT,
        within_target=percent < TARGET_PERCENT,
        all_passed=passed,
    )


def render(result: JailOverhead) -> list[str]:
    verdict = "within" if result.within_target else "OVER"
    return [
        f"Jail overhead per gate run (demo project, `{' '.join(result.command[1:])}`, median of {result.runs} each, "
        "alternating):",
        f"  jailed (bubblewrap) {result.jailed_median_s * 1000:8.1f} ms",
        f"  unconfined          {result.unconfined_median_s * 1000:8.1f} ms",
        f"  overhead            {result.overhead_s * 1000:8.1f} ms per gate (median of paired differences) = "
        f"{result.overhead_percent:.1f} %; target < {result.target_percent:.0f} %: {verdict}",
        f"  fixed cost: `true` takes {result.startup_jailed_ms:.1f} ms jailed, {result.startup_unconfined_ms:.1f} ms "
        f"unconfined (ratio of gate medians {result.jailed_median_s / result.unconfined_median_s:.3f})",
    ]
