"""The metrics sink: appends records to the run's metrics.jsonl and the cross-run cache (docs/metrics.md).

The record types, their builders and the one reader live in `autodev.core.records`; the builders are
re-exported here so a caller builds and writes a record with one import.
Appends go through one lock: parallel agents finish at the same moment and each line must stay whole.
What is written is redacted (`autodev.core.redact`); the sink's memory keeps what the caller passed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from autodev.core.records import (
    SCHEMA,
    AgentRecord,
    CallRecord,
    MetricRecord,
    Record,
    TimerRecord,
    agent_record,
    call_record,
    timer_record,
)
from autodev.core.redact import redact_data

__all__ = [
    "GENERATED_FIELDS",
    "SCHEMA",
    "MetricsSink",
    "agent_record",
    "call_record",
    "drop_partial_line",
    "timer_record",
]

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
        self._written: list[Record | dict[str, Any]] = []

    @property
    def written(self) -> list[MetricRecord]:
        """The typed records written so far, in order, unredacted."""
        return [r for r in self._written if isinstance(r, (CallRecord, AgentRecord, TimerRecord))]

    @property
    def records(self) -> list[dict[str, Any]]:
        """The JSON of every record written so far, in order, unredacted (a mapping as it was passed)."""
        return [record.to_json() if isinstance(record, Record) else dict(record) for record in self._written]

    def _open(self) -> list[TextIO]:
        drop_partial_line(self.run_file)  # a resumed run appends after a record its killed process cut short
        handles: list[TextIO] = []
        for path in (self.run_file, self.cache_file):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                handles.append(path.open("a", encoding="utf-8", buffering=1))
        return handles

    def write(self, record: Record | Mapping[str, Any]) -> None:
        """Append one record; a plain mapping (a record of a kind this version does not type) is written as is."""
        kept = record if isinstance(record, Record) else dict(record)
        data = kept.to_json() if isinstance(kept, Record) else kept
        line = json.dumps(_redacted(data), ensure_ascii=False) + "\n"
        with self._lock:
            self._written.append(kept)
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
