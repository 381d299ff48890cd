"""The baseline: the project's tests at the base commit, run once before the build phase, and cached.

The gate judges a change against it per test, as SWE-bench does (`autodev.run.gate.verdict`): a test
that already failed at the base is not the implementer's doing. It runs in the run's worktree while
that is still exactly the base commit, through the same runner and jail as the gate, so the two runs
differ only in the change.

Running a suite can take minutes, so the result is cached in `<repo>/.autodev/cache/baselines/`,
one JSON file per key: the base commit, the command, and a fingerprint of what else decides how the
tests run (the jail, its environment, the interpreter the command starts, a virtualenv in the
checkout). A second run on the same base with the same environment reads the file instead.

Only a run whose report names its tests is a baseline: a command whose runner writes no report, a
run that timed out or left no report is `unavailable` (with the reason), and the gate falls back to
the exit code. Only usable results are cached; a timeout may be the machine's, not the project's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.core import gitops
from autodev.core.jsonio import write_json_atomic
from autodev.run.gate.project_tests import TestOutcome
from autodev.run.gate.results import detect_runner
from autodev.run.sections import GateTests
from autodev.sandbox.jail import Jail

CACHE_VERSION = 1
LISTED = 20
_ENV_NOT_DECIDING = ("HOME", "TMPDIR")  # the jail replaces them; a user's HOME is not the project's environment


@dataclass(frozen=True)
class BaselineTests:
    """Which tests passed and which failed at the base (ids as the runner's report names them)."""

    runner: str
    exit_code: int | None
    passing: frozenset[str]
    failing: frozenset[str]
    counts: GateTests
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "runner": self.runner,
            "exit_code": self.exit_code,
            "passing": sorted(self.passing),
            "failing": sorted(self.failing),
            "counts": self.counts.to_json(),
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BaselineTests:
        return cls(
            runner=str(data["runner"]),
            exit_code=data.get("exit_code"),
            passing=frozenset(str(name) for name in data["passing"]),
            failing=frozenset(str(name) for name in data["failing"]),
            counts=GateTests(**data["counts"]),
            duration_s=float(data.get("duration_s", 0.0)),
        )


def counts_of(outcome: TestOutcome) -> GateTests | None:
    """The report's counts as state.json holds them, when the report had counts."""
    report = outcome.report
    if report is None or not report.has_counts:
        return None
    return GateTests(
        runner=report.runner,
        passed=report.passed,
        failed=report.failed,
        errors=report.errors,
        skipped=report.skipped,
        total=report.total,
        failing=[failure.name for failure in report.failures[:LISTED]],
    )


def from_outcome(outcome: TestOutcome) -> BaselineTests | str:
    """The baseline a test run gives, or why it gives none."""
    if outcome.timed_out:
        return "the tests timed out at the base commit"
    counts = counts_of(outcome)
    report = outcome.report
    if report is None or counts is None:
        return (report.note if report is not None else None) or "the test run at the base left no report"
    return BaselineTests(
        runner=report.runner,
        exit_code=outcome.exit_code,
        passing=frozenset(report.passing),
        failing=frozenset(failure.name for failure in report.failures),
        counts=counts,
        duration_s=round(outcome.duration_s, 3),
    )


def unusable_command(command: Sequence[str], cwd: Path | None = None) -> str | None:
    """Why no baseline can come from `command` run in `cwd` (its runner names no tests), or None."""
    if detect_runner(command, cwd) == "unknown":
        return "no per-test report from this runner to compare, so the exit code decides"
    return None


# --------------------------------------------------------------------------- the cache key
def _file_print(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _executable(command: Sequence[str], env: dict[str, str]) -> str | None:
    """The program the command starts, resolved on the jail's PATH, with its size and time."""
    if not command:
        return None
    found = shutil.which(command[0], path=env.get("PATH", os.defpath))
    return _file_print(Path(found)) if found else None


def _virtualenvs(repo: Path) -> dict[str, str]:
    """A virtualenv in the checkout (untracked, so not in the base commit) decides what is installed."""
    found: dict[str, str] = {}
    for name in (".venv", "venv"):
        config = repo / name / "pyvenv.cfg"
        if config.is_file():
            with contextlib.suppress(OSError):
                digest = hashlib.sha256(config.read_bytes()).hexdigest()
                found[name] = f"{digest}:{(repo / name).stat().st_mtime_ns}"
    return found


def fingerprint(commit: str, command: Sequence[str], jail: Jail, repo: Path, chosen: str = "") -> dict[str, Any]:
    """Everything that decides the baseline's result, as a JSON-able dict (environment values hashed).

    `chosen`: how the test environment was chosen (which tool, which virtualenv), when it was."""
    env = {k: v for k, v in jail.environment({}).items() if k not in _ENV_NOT_DECIDING}
    env_digest = hashlib.sha256(json.dumps(sorted(env.items())).encode("utf-8")).hexdigest()
    policy = jail.policy
    return {
        "version": CACHE_VERSION,
        "commit": commit,
        "command": list(command),
        "jail": {"kind": jail.kind, "network": policy.network, "env": sorted(policy.env)},
        "environment": env_digest,
        "executable": _executable(command, env),
        "virtualenvs": _virtualenvs(repo),
        "chosen": chosen,
    }


def cache_key(print_: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(print_, sort_keys=True).encode("utf-8")).hexdigest()[:32]


# --------------------------------------------------------------------------- the cache
def read_cached(path: Path, key: str) -> BaselineTests | None:
    """The cached baseline for `key`, or None (missing, unreadable, another version: a miss, not an error)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION or data.get("key") != key:
            return None
        return BaselineTests.from_json(data["tests"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_cached(path: Path, key: str, print_: dict[str, Any], tests: BaselineTests) -> None:
    """Keep the baseline for the next run on the same base (a failure to write only costs a rerun)."""
    data = {"version": CACHE_VERSION, "key": key, "fingerprint": print_, "tests": tests.to_json()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)


# --------------------------------------------------------------------------- the worktree
def at_base(worktree: Path, commit: str) -> str | None:
    """Why the worktree is not exactly the base commit (so the baseline can't run in it), or None."""
    try:
        if gitops.head_of(worktree) != commit:
            return "the run's worktree has moved past the base commit"
        if gitops.dirty_paths(worktree):
            return "the run's worktree has changes"
    except gitops.GitError as exc:
        return f"git could not read the worktree: {exc}"
    return None


def restore_base(worktree: Path, commit: str) -> None:
    """What the tests left in the worktree goes, so the build starts from the base (ignored files stay)."""
    if gitops.dirty_paths(worktree):
        gitops.git(["reset", "--quiet", "--hard", commit], worktree)
        gitops.git(["clean", "-ffdq"], worktree)
