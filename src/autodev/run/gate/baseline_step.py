"""The baseline step: before the build phase, the tests at the base commit (or the cached result), recorded.

The gate step owns one (`GateStep.baseline()` runs it, `GateStep.judge()` reads it). Its result is
state.json's `baseline`: `recorded` (the per-test ids are in the cache file it names) or `unavailable`
with the reason, in which case the gate judges by exit code and says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from autodev.core.timer import PerformanceTimer
from autodev.run.events import RunEvent
from autodev.run.gate.baseline import (
    BaselineTests,
    at_base,
    cache_key,
    counts_of,
    fingerprint,
    from_outcome,
    read_cached,
    restore_base,
    unusable_command,
    write_cached,
)
from autodev.run.gate.project_tests import TestOutcome
from autodev.run.recorder import Recorder
from autodev.run.sections import Baseline
from autodev.sandbox.jail import Jail

NOT_TAKEN = "no baseline was taken before the build phase"


@dataclass
class BaselineStep:
    """`run`: one run of the test command in the worktree, exactly as the gate runs it (its runner,
    jail and environment). `environment`: how that environment was chosen, for the cache key."""

    recorder: Recorder
    command: list[str] | None
    base: str
    worktree: Path
    repo: Path
    cache_dir: Path
    jail: Jail
    run: Callable[[], Awaitable[TestOutcome]]
    environment: str = ""
    _tests: BaselineTests | None = field(default=None, repr=False)

    @property
    def record(self) -> Baseline:
        return self.recorder.store.state.baseline

    async def take(self, due: str | None) -> None:
        """Run (or read from the cache) the baseline, once per run. `due`: why there is none to take, or None."""
        if self.record.status is not None:
            return  # a resumed run took it before it stopped
        if due is None and self.command is not None:
            due = unusable_command(self.command, self.worktree)
        if due is not None or self.command is None:
            self._unavailable(due or NOT_TAKEN)
            return
        command = self.command
        print_ = fingerprint(self.base, command, self.jail, self.repo, self.environment)
        key = cache_key(print_)
        cache_file = self.cache_dir / f"{key}.json"
        self.record.commit, self.record.command, self.record.key = self.base, list(command), key
        self.record.cache_file = str(cache_file)
        cached = read_cached(cache_file, key)
        if cached is not None:
            self._recorded(cached, cached=True)
            return
        problem = at_base(self.worktree, self.base)
        if problem is not None:
            self._unavailable(problem)
            return
        sink = self.recorder.metrics
        async with PerformanceTimer("test_baseline", run_id=self.recorder.run_id, sink=sink):
            outcome = await self.run()
        restore_base(self.worktree, self.base)
        result = from_outcome(outcome)
        self.record.exit_code, self.record.duration_s = outcome.exit_code, round(outcome.duration_s, 3)
        self.record.tests = counts_of(outcome)
        if isinstance(result, str):
            self._unavailable(result)
            return
        write_cached(cache_file, key, print_, result)
        self._recorded(result, cached=False)

    def tests(self) -> tuple[BaselineTests | None, str | None]:
        """The baseline to judge against, or None and why there is none."""
        record = self.record
        if record.status != "recorded":
            return None, record.reason or NOT_TAKEN
        if self._tests is None and record.cache_file and record.key:
            self._tests = read_cached(Path(record.cache_file), record.key)
        if self._tests is None:
            return None, f"the baseline's cache file {record.cache_file} can no longer be read"
        return self._tests, None

    def _recorded(self, tests: BaselineTests, *, cached: bool) -> None:
        record = self.record
        record.status, record.reason, record.cached = "recorded", None, cached
        record.exit_code, record.duration_s, record.tests = tests.exit_code, tests.duration_s, tests.counts
        self._tests = tests
        counts = tests.counts
        detail = (
            f"baseline at {self.base[:12]}: {counts.passed} passed, {counts.failed} failed, {counts.errors} errors"
            f" of {counts.total}" + (" (from the cache: not run again)" if cached else "")
        )
        self._save(detail)

    def _unavailable(self, reason: str) -> None:
        self.record.status, self.record.reason = "unavailable", reason
        self._save(f"baseline unavailable ({reason}): the gate judges by exit code")

    def _save(self, detail: str) -> None:
        self.recorder.save()
        data = {"baseline": True, "status": self.record.status, "cached": self.record.cached}
        self.recorder.report(RunEvent("gate", detail=detail, data=data))
