"""`PerformanceTimer`: time a block, a coroutine or a function, and record it as a `timer` metric.

    with PerformanceTimer("research_phase", run_id=run_id) as timer:
        ...
    timer.duration_s

    @PerformanceTimer("load_specs")
    def load(): ...

It writes to the sink registered for its run (the orchestrator registers one per run) or to the sink
passed in; with neither it only measures. Each use is its own object's state, so timers nest and
run concurrently in threads and tasks without sharing anything mutable but the sink (which locks).
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, cast

from autodev.core.clock import utc_now
from autodev.core.metrics import MetricsSink, timer_record

F = TypeVar("F", bound=Callable[..., Any])

_sinks: dict[str, MetricsSink] = {}
_sinks_lock = threading.Lock()


def register_sink(run_id: str, sink: MetricsSink) -> None:
    with _sinks_lock:
        _sinks[run_id] = sink


def unregister_sink(run_id: str) -> None:
    with _sinks_lock:
        _sinks.pop(run_id, None)


class PerformanceTimer:
    def __init__(self, name: str, *, run_id: str | None = None, sink: MetricsSink | None = None) -> None:
        self.name = name
        self.run_id = run_id
        self.sink = sink
        self.started_at: datetime | None = None
        self.duration_s: float | None = None
        self._start = 0.0

    # -- context manager (sync and async)
    def __enter__(self) -> PerformanceTimer:
        self.started_at = utc_now()
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.duration_s = time.perf_counter() - self._start
        self._record()

    async def __aenter__(self) -> PerformanceTimer:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator: a fresh timer per call, so concurrent calls don't share state
    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return cast(F, wrapper)

    def _fresh(self) -> PerformanceTimer:
        return PerformanceTimer(self.name, run_id=self.run_id, sink=self.sink)

    def _record(self) -> None:
        sink = self.sink
        if sink is None and self.run_id is not None:
            sink = _sinks.get(self.run_id)
        if sink is None or self.started_at is None or self.duration_s is None:
            return
        sink.write(
            timer_record(
                run_id=self.run_id or "", name=self.name, started_at=self.started_at, duration_s=self.duration_s
            )
        )
