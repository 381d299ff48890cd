"""Metric records (DESIGN.md, schema 1), appended to the run's metrics.jsonl and the cross-run cache.

Records are plain dicts built by the functions here, so the contract's field list lives in one place.
Appends go through one lock: parallel agents finish at the same moment and each line must stay whole.
What is written is redacted (`autodev.core.redact`); `records` keeps what the caller passed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from autodev.core.clock import iso
from autodev.core.redact import redact_data
from autodev.core.usage import Usage

SCHEMA = 1


# Fields the program fills itself (numbers, timestamps, enums, run ids): nothing a secret can reach,
# so they skip redaction, which would otherwise cost more than the rest of a timer record.
GENERATED_FIELDS = frozenset({
    "schema", "kind", "run_id", "status", "tier", "started_at", "ended_at", "duration_s", "attempts", "turns",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "context_tokens",
    "handoff_tokens", "refusals", "usage_estimated", "compactions", "elided_tokens",
})  # fmt: skip


def _redacted(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value if key in GENERATED_FIELDS else redact_data({key: value})[key] for key, value in record.items()}


def drop_partial_line(path: Path) -> None:
    """Cut a JSON-lines file back to its last complete line (only for a file no other process writes)."""
    try:
        with path.open("rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        return


class MetricsSink:
    """Appends records to `<run>/metrics.jsonl` and `<repo>/.autodev/cache/performance_metrics.jsonl`.

    The files stay open (line-buffered, so every record is on disk when `write` returns) because
    opening two files per record would cost more than the PerformanceTimer's whole budget.
    """

    def __init__(self, run_file: Path, cache_file: Path | None = None) -> None:
        self.run_file = run_file
        self.cache_file = cache_file
        self._lock = threading.Lock()
        self._handles: list[TextIO] | None = None
        self.records: list[dict[str, Any]] = []

    def _open(self) -> list[TextIO]:
        drop_partial_line(self.run_file)  # a resumed run appends after a record its killed process cut short
        handles: list[TextIO] = []
        for path in (self.run_file, self.cache_file):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                handles.append(path.open("a", encoding="utf-8", buffering=1))
        return handles

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(_redacted(record), ensure_ascii=False) + "\n"
        with self._lock:
            self.records.append(dict(record))
            if self._handles is None:
                self._handles = self._open()
            for handle in self._handles:
                handle.write(line)

    def close(self) -> None:
        with self._lock:
            for handle in self._handles or []:
                handle.close()
            self._handles = None

    def __del__(self) -> None:
        for handle in self._handles or []:
            handle.close()


def _usage_fields(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }


def call_record(
    *,
    run_id: str,
    agent: str,
    model: str,
    started_at: datetime,
    duration_s: float,
    attempts: int,
    status: str,
    usage: Usage,
    cost_usd: float | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "kind": "call",
        "run_id": run_id,
        "agent": agent,
        "model": model,
        "started_at": iso(started_at),
        "duration_s": round(duration_s, 6),
        "attempts": attempts,
        "status": status,
        **_usage_fields(usage),
        "cost_usd": cost_usd,
    }


def agent_record(
    *,
    run_id: str,
    agent: str,
    tier: str,
    model: str | None,
    provider: str | None,
    status: str,
    skip_reason: str | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    turns: int = 0,
    tool_calls: Counter[str] | None = None,
    usage: Usage = Usage(),
    cost_usd: float | None = None,
    context_tokens: list[int] | None = None,
    handoff_tokens: int = 0,
) -> dict[str, Any]:
    duration = (ended_at - started_at).total_seconds() if started_at and ended_at else 0.0
    return {
        "schema": SCHEMA,
        "kind": "agent",
        "run_id": run_id,
        "agent": agent,
        "tier": tier,
        "model": model,
        "provider": provider,
        "status": status,
        "skip_reason": skip_reason,
        "started_at": iso(started_at) if started_at else None,
        "ended_at": iso(ended_at) if ended_at else None,
        "duration_s": round(duration, 6),
        "turns": turns,
        "tool_calls": dict(tool_calls or {}),
        **_usage_fields(usage),
        "cost_usd": cost_usd,
        "context_tokens": list(context_tokens or []),
        "handoff_tokens": handoff_tokens,
    }


def timer_record(*, run_id: str, name: str, started_at: datetime, duration_s: float) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "kind": "timer",
        "run_id": run_id,
        "name": name,
        "started_at": iso(started_at),
        "duration_s": round(duration_s, 6),
    }
