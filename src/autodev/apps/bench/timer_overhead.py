"""`autodev bench profiler`: what one PerformanceTimer use costs (enter + exit + record).

Measured against an empty loop in the same run, so the figure is the timer's own overhead, with its
records really written to a run's metrics file and the cross-run cache on disk.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from autodev.core.metrics import MetricsSink
from autodev.core.timer import PerformanceTimer

TARGET_US = 50.0


def profiler_benchmark(iterations: int = 20_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="autodev-bench-") as tmp:
        sink = MetricsSink(Path(tmp) / "metrics.jsonl", Path(tmp) / "cache.jsonl")
        start = time.perf_counter()
        for _ in range(iterations):
            pass
        empty = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(iterations):
            with PerformanceTimer("bench", run_id="bench", sink=sink):
                pass
        timed = time.perf_counter() - start
        close = getattr(sink, "close", None)
        if close is not None:
            close()
        written = sum(1 for _ in (Path(tmp) / "metrics.jsonl").open(encoding="utf-8"))
    per_use_us = (timed - empty) / iterations * 1e6
    return {
        "iterations": iterations,
        "records_written": written,
        "overhead_us_per_use": per_use_us,
        "target_us": TARGET_US,
        "within_target": per_use_us < TARGET_US,
    }
