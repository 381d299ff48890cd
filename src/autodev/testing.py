"""Running the project's own tests: the orchestrator's gate after the implementer, and `RunTests`.

The command is an argument list (never a shell), runs with a timeout, and sees an environment with
API keys removed, so a test suite can't spend or leak the user's credentials.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from autodev.tools.base import cap_output

SECRET_ENV_MARKERS = ("API_KEY", "TOKEN", "SECRET", "PASSWORD")
NO_TESTS_EXIT = 5  # pytest: no tests collected


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None
    output: str
    duration_s: float
    command: tuple[str, ...]
    timed_out: bool = False

    def summary(self, tail_chars: int = 6000) -> str:
        status = "PASSED" if self.passed else ("TIMED OUT" if self.timed_out else "FAILED")
        tail = self.output[-tail_chars:]
        return f"Tests {status} (exit {self.exit_code}, {self.duration_s:.1f}s): {' '.join(self.command)}\n{tail}"


def _has_tests(repo: Path) -> bool:
    if (repo / "tests").is_dir() or (repo / "test").is_dir():
        return True
    return any(repo.glob("test_*.py")) or any(repo.glob("*_test.py"))


def detect_test_command(repo: Path, configured: list[str] | None) -> list[str] | None:
    """The configured command, else pytest (or unittest when pytest is missing) if the repo has tests."""
    if configured:
        return [sys.executable if configured[0] in ("python", "python3") else configured[0], *configured[1:]]
    if not _has_tests(repo):
        return None
    if importlib.util.find_spec("pytest") is not None:
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return [sys.executable, "-m", "unittest", "discover", "-q"]


def scrubbed_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not any(m in k.upper() for m in SECRET_ENV_MARKERS)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


async def run_tests(command: list[str], cwd: Path, timeout_s: float) -> TestOutcome:
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            result = await anyio.run_process(
                command,
                cwd=cwd,
                check=False,
                env=scrubbed_environment(),
                stderr=-2,  # STDOUT
            )
    except TimeoutError:
        return TestOutcome(
            False,
            None,
            f"timed out after {timeout_s:.0f}s",
            time.perf_counter() - started,
            tuple(command),
            timed_out=True,
        )
    except OSError as exc:
        return TestOutcome(
            False, None, f"could not start the test command: {exc}", time.perf_counter() - started, tuple(command)
        )
    output = cap_output(result.stdout.decode("utf-8", errors="replace"), 40_000)
    passed = result.returncode == 0 or (result.returncode == NO_TESTS_EXIT and "pytest" in " ".join(command))
    return TestOutcome(passed, result.returncode, output, time.perf_counter() - started, tuple(command))
