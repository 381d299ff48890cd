"""Running the project's own tests: the orchestrator's gate after the implementer, and `RunTests`.

The command is an argument list (never a shell), run by `autodev.core.process.run_process`: with a
timeout, in its own process group (stopped whole at the end, so a hung test's children or a server
a test never stopped don't outlive it), its output read into a bounded head and tail. It sees an
environment with API keys removed, so a test suite can't spend or leak the user's credentials. The counts and the
failing tests come from the runner's own report (`autodev.run.gate.results`), not from its output.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autodev.core.process import HeadTail, run_process
from autodev.core.text import cap_output
from autodev.run.gate.environment import TestEnvironment
from autodev.run.gate.results import PreparedCommand, TestReport, prepare_command, read_report
from autodev.sandbox.jail import Jail, SandboxPolicy

NO_TESTS_EXIT = 5  # pytest (and unittest since 3.12, and our unittest runner): no tests collected
OUTPUT_CAP = 40_000  # characters of output kept in the outcome
_HEAD_BYTES, _TAIL_BYTES = 64_000, 256_000  # what is held while reading: a noisy suite can't fill memory


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None
    output: str
    duration_s: float
    command: tuple[str, ...]
    timed_out: bool = False
    report: TestReport | None = None
    no_tests: bool = False  # nothing was collected (exit 5, or a report of 0 tests): never a pass

    def summary(self, tail_chars: int = 6000) -> str:
        """The status, then the report's counts and failing tests, then the end of the output."""
        status = "PASSED" if self.passed else ("TIMED OUT" if self.timed_out else "FAILED")
        status = "NO TESTS RAN (not a pass)" if self.no_tests else status
        parts = [f"Tests {status} (exit {self.exit_code}, {self.duration_s:.1f}s): {' '.join(self.command)}"]
        if self.report is not None:
            parts.append(self.report.describe())
        tail = self.output[-tail_chars:]
        parts.append(f"Output{' (end)' if len(tail) < len(self.output) else ''}:\n{tail}")
        return "\n".join(parts)


def _render(capture: HeadTail) -> str:
    """The output as text, marking where the middle of a noisy run was left out."""
    head = capture.head.decode("utf-8", errors="replace")
    tail = capture.tail.decode("utf-8", errors="replace")
    gap = f"\n[... {capture.dropped} bytes of output left out ...]\n" if capture.dropped else ""
    return head + gap + tail


async def _execute(
    prepared: PreparedCommand, cwd: Path, timeout_s: float, jail: Jail, scratch: Path, chosen: TestEnvironment | None
) -> tuple[int | None, str, bool]:
    """(exit code or None on timeout, output, timed out). The process group never outlives this call."""
    capture = HeadTail(_HEAD_BYTES, _TAIL_BYTES)
    own = {"PYTHONDONTWRITEBYTECODE": "1", **(chosen.env_for(cwd) if chosen else {}), **prepared.env}
    readable = chosen.readable if chosen else ()
    command = jail.command(prepared.argv, cwd, own, writable=[scratch], readable=readable)
    finished = await run_process(command, timeout_s, capture)
    return finished.exit_code, _render(capture), finished.timed_out


async def run_tests(
    command: list[str],
    cwd: Path,
    timeout_s: float,
    jail: Jail | None = None,
    environment: TestEnvironment | None = None,
) -> TestOutcome:
    """Run the project's tests in `jail` (None, for callers outside a run: unconfined, environment
    filtered), in the project's `environment` (`run.gate.environment.detect`) when it has one."""
    jail = jail or Jail("none", SandboxPolicy(mode="off"), cwd)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autodev-tests-") as scratch:
        prepared = prepare_command(command, Path(scratch), cwd)
        try:
            exit_code, output, timed_out = await _execute(prepared, cwd, timeout_s, jail, Path(scratch), environment)
        except OSError as exc:
            return TestOutcome(
                False, None, f"could not start the test command: {exc}", time.perf_counter() - started, tuple(command)
            )
        report = read_report(prepared, output, timed_out=timed_out)
    if timed_out:
        output = f"timed out after {timeout_s:g}s; the test processes were killed\n{output}"
    output = cap_output(output, OUTPUT_CAP)
    no_tests = exit_code == NO_TESTS_EXIT and (
        prepared.runner in ("pytest", "unittest") or "pytest" in " ".join(command)
    )
    no_tests = not timed_out and (no_tests or (report.total == 0 and exit_code in (0, NO_TESTS_EXIT)))
    passed = not timed_out and exit_code == 0 and not no_tests
    duration = time.perf_counter() - started
    return TestOutcome(passed, exit_code, output, duration, tuple(command), timed_out, report, no_tests)
