"""PerformanceTimer: a context manager (sync and async) and a decorator that writes `timer` records."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from autodev.core.metrics import MetricsSink
from autodev.core.timer import PerformanceTimer, register_sink, unregister_sink

TIMER_FIELDS = {"schema", "kind", "run_id", "name", "started_at", "duration_s"}
ISO_UTC_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
# A timer's duration is bounded below by what it wrapped (a sleep) and above by a clock read around the
# timer itself: both hold on any machine, however busy, and only a timer that measured the wrong span misses them.
ROUNDING_S = 1e-6  # records keep microseconds


class ListSink:
    """A sink that keeps records in memory only (the timer needs nothing but `write`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[dict[str, Any]] = []

    def write(self, record: Any) -> None:
        with self.lock:
            self.records.append(record.to_json())


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def registered(sink: ListSink) -> Iterator[ListSink]:
    register_sink("run-1", sink)
    yield sink
    unregister_sink("run-1")


def by_name(sink: ListSink) -> dict[str, dict[str, Any]]:
    return {record["name"]: record for record in sink.records}


def test_sync_context_manager_measures_and_records(sink: ListSink) -> None:
    before, around = time.time(), time.perf_counter()
    with PerformanceTimer("research_phase", run_id="run-1", sink=sink) as timer:
        time.sleep(0.02)
    around = time.perf_counter() - around
    assert timer.duration_s is not None and 0.02 <= timer.duration_s <= around
    (record,) = sink.records
    assert set(record) == TIMER_FIELDS
    assert record["schema"] == 1 and record["kind"] == "timer"
    assert record["run_id"] == "run-1" and record["name"] == "research_phase"
    assert record["duration_s"] == round(timer.duration_s, 6)
    assert ISO_UTC_MICROS.match(record["started_at"])
    assert before - 1 <= datetime.fromisoformat(record["started_at"]).timestamp() <= time.time()


def test_async_context_manager(sink: ListSink) -> None:
    async def main() -> tuple[PerformanceTimer, float]:
        around = time.perf_counter()
        async with PerformanceTimer("async_phase", run_id="run-1", sink=sink) as timer:
            await anyio.sleep(0.02)
        return timer, time.perf_counter() - around

    timer, around = anyio.run(main)
    assert timer.duration_s is not None and 0.02 <= timer.duration_s <= around
    assert [r["name"] for r in sink.records] == ["async_phase"]


def test_decorates_sync_and_async_functions(sink: ListSink) -> None:
    @PerformanceTimer("load", run_id="run-1", sink=sink)
    def load(value: int) -> int:
        """Loads."""
        time.sleep(0.01)
        return value * 2

    @PerformanceTimer("fetch", run_id="run-1", sink=sink)
    async def fetch(value: int) -> int:
        await anyio.sleep(0.01)
        return value + 1

    arounds: list[float] = []

    def timed(call: Callable[[], int], expected: int) -> None:
        around = time.perf_counter()
        assert call() == expected
        arounds.append(time.perf_counter() - around)

    timed(lambda: load(21), 42)
    timed(lambda: load(1), 2)
    timed(lambda: anyio.run(fetch, 41), 42)
    assert load.__name__ == "load" and load.__doc__ == "Loads."
    assert fetch.__name__ == "fetch"
    assert [r["name"] for r in sink.records] == ["load", "load", "fetch"]
    assert all(0.01 <= r["duration_s"] <= around + ROUNDING_S for r, around in zip(sink.records, arounds, strict=True))


def test_an_exception_is_still_recorded_and_propagates(sink: ListSink) -> None:
    with pytest.raises(ValueError, match="boom"), PerformanceTimer("failing", run_id="run-1", sink=sink):
        raise ValueError("boom")
    assert [r["name"] for r in sink.records] == ["failing"]


def test_timers_nest(sink: ListSink) -> None:
    with PerformanceTimer("outer", run_id="run-1", sink=sink) as outer:
        time.sleep(0.01)
        with PerformanceTimer("inner", run_id="run-1", sink=sink) as inner:
            time.sleep(0.02)
        time.sleep(0.01)
    assert [r["name"] for r in sink.records] == ["inner", "outer"]  # each written when it ends
    assert inner.duration_s is not None and outer.duration_s is not None
    assert inner.duration_s >= 0.02
    assert outer.duration_s >= inner.duration_s + 0.02
    records = by_name(sink)
    assert records["outer"]["started_at"] < records["inner"]["started_at"]


def test_concurrent_timers_in_threads_each_measure_their_own_time(sink: ListSink) -> None:
    sleeps = {f"worker-{i}": 0.02 * (i + 1) for i in range(6)}
    barrier = threading.Barrier(len(sleeps))
    arounds: dict[str, float] = {}

    def work(name: str) -> None:
        barrier.wait()
        around = time.perf_counter()
        with PerformanceTimer(name, run_id="run-1", sink=sink):
            time.sleep(sleeps[name])
        arounds[name] = time.perf_counter() - around

    threads = [threading.Thread(target=work, args=(name,)) for name in sleeps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = by_name(sink)
    assert set(records) == set(sleeps)
    for name, seconds in sleeps.items():
        assert seconds <= records[name]["duration_s"] <= arounds[name] + ROUNDING_S, name


def test_one_decorated_function_called_from_many_threads(sink: ListSink) -> None:
    @PerformanceTimer("step", run_id="run-1", sink=sink)
    def step(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    sleeps = [0.01, 0.05, 0.03, 0.07]
    arounds: list[float] = []

    def call(seconds: float) -> None:
        around = time.perf_counter()
        step(seconds)
        arounds.append(time.perf_counter() - around)

    threads = [threading.Thread(target=call, args=(seconds,)) for seconds in sleeps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    durations = sorted(r["duration_s"] for r in sink.records)
    # the records carry no argument, so compare in order: the k-th shortest lies between the k-th shortest
    # sleep and the k-th shortest span measured around a call
    for measured, slept, around in zip(durations, sorted(sleeps), sorted(arounds), strict=True):
        assert slept <= measured <= around + ROUNDING_S


def test_concurrent_timers_in_anyio_tasks_each_measure_their_own_time(sink: ListSink) -> None:
    sleeps = {f"task-{i}": 0.02 * (i + 1) for i in range(6)}

    arounds: dict[str, float] = {}
    opened: set[str] = set()
    all_open = anyio.Event()

    @PerformanceTimer("decorated", run_id="run-1", sink=sink)
    async def decorated(seconds: float) -> None:
        await anyio.sleep(seconds)

    async def work(name: str) -> None:
        around = time.perf_counter()
        async with PerformanceTimer(name, run_id="run-1", sink=sink):
            opened.add(name)
            if opened == set(sleeps):
                all_open.set()
            await all_open.wait()  # every timer is open at once: they overlap whatever the machine does
            await anyio.sleep(sleeps[name])
        arounds[name] = time.perf_counter() - around

    async def timed_decorated() -> None:
        around = time.perf_counter()
        await decorated(0.03)
        arounds["decorated"] = time.perf_counter() - around

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for name in sleeps:
                group.start_soon(work, name)
            group.start_soon(timed_decorated)

    anyio.run(main)
    records = {r["name"]: r for r in sink.records}
    assert set(records) == {*sleeps, "decorated"}
    for name, seconds in {**sleeps, "decorated": 0.03}.items():
        assert seconds <= records[name]["duration_s"] <= arounds[name] + ROUNDING_S, name


def test_registered_sink_receives_records_for_its_run(registered: ListSink) -> None:
    with PerformanceTimer("phase", run_id="run-1"):
        pass
    with PerformanceTimer("elsewhere", run_id="another-run"):
        pass
    assert [r["name"] for r in registered.records] == ["phase"]
    unregister_sink("run-1")
    with PerformanceTimer("after", run_id="run-1") as timer:
        pass
    assert timer.duration_s is not None  # still measured
    assert [r["name"] for r in registered.records] == ["phase"]


def test_an_explicit_sink_wins_over_the_registered_one(registered: ListSink) -> None:
    explicit = ListSink()
    with PerformanceTimer("phase", run_id="run-1", sink=explicit):
        pass
    assert [r["name"] for r in explicit.records] == ["phase"]
    assert registered.records == []


def test_no_sink_measures_only(registered: ListSink) -> None:
    with PerformanceTimer("loose") as timer:
        time.sleep(0.01)
    assert timer.duration_s is not None and timer.duration_s >= 0.01
    assert timer.started_at is not None
    assert registered.records == []


def test_records_reach_the_run_file_and_the_cross_run_cache(tmp_path: Path) -> None:
    run_file, cache_file = tmp_path / "runs" / "r" / "metrics.jsonl", tmp_path / "cache" / "performance.jsonl"
    sink = MetricsSink(run_file, cache_file)
    register_sink("r", sink)
    try:
        with PerformanceTimer("build_phase", run_id="r"):
            pass
    finally:
        unregister_sink("r")
    close = getattr(sink, "close", None)
    if close is not None:
        close()
    for path in (run_file, cache_file):
        (line,) = path.read_text(encoding="utf-8").splitlines()
        record = json.loads(line)
        assert set(record) == TIMER_FIELDS
        assert (record["kind"], record["run_id"], record["name"]) == ("timer", "r", "build_phase")


def test_bench_profiler_reports_the_overhead(capsys: pytest.CaptureFixture[str]) -> None:
    """Sanity only: the < 50 µs target is the benchmark's to judge, not a test's."""
    from autodev.apps.cli.main import main

    assert main(["bench", "profiler", "--json", "--iterations", "500"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["iterations"] == result["records_written"] == 500
    assert result["overhead_us_per_use"] > 0
    assert result["target_us"] == 50.0 and isinstance(result["within_target"], bool)
    assert main(["bench", "profiler", "--iterations", "500"]) == 0
    assert "PerformanceTimer overhead:" in capsys.readouterr().out
