"""Metric records: one typed record per kind in metrics.jsonl (docs/metrics.md, schema 1), and the one reader.

The fields of each record are declared in the order its JSON has them, so `to_json()` is the line as
written, key for key. A field marked `ADDITIVE` was added to the contract after schema 1 shipped: it is
left out of the JSON while it is `None` (a record that never had it looks exactly as it always did).

The builders (`call_record`, `agent_record`, `timer_record`) take what the caller has at hand (datetimes,
a `Usage`, a `Counter`) and do the conversions (ISO times, durations rounded to the microsecond) in one
place. `read_metrics` is the only parser of metrics.jsonl: a line cut short by a crash, a record of a kind
it does not know, or one whose fields do not fit are skipped rather than losing the report; keys it does
not know are ignored, so an older reader can read a newer file.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import TypeAdapter, ValidationError

from autodev.core.clock import iso
from autodev.core.usage import Usage

SCHEMA = 1
ADDITIVE = {"additive": True}  # field metadata: absent from the JSON while None


class Record:
    """What every record kind shares: its `kind` tag and its JSON form."""

    __slots__ = ()
    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, additive in _layout(type(self)):
            value = getattr(self, name)
            if additive and value is None:
                continue
            data[name] = dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
            if name == "schema":
                data["kind"] = self.kind
        return data


_LAYOUTS: dict[type[Record], tuple[tuple[str, bool], ...]] = {}


def _layout(cls: type[Record]) -> tuple[tuple[str, bool], ...]:
    """Each field's name and whether it is additive, in JSON order (looked up once per kind)."""
    if cls not in _LAYOUTS:
        _LAYOUTS[cls] = tuple((f.name, bool(f.metadata.get("additive"))) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return _LAYOUTS[cls]


class _Tokens:
    """The four token counts every record with usage carries, flat in the JSON."""

    __slots__ = ()
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int

    @property
    def usage(self) -> Usage:
        return Usage(self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRecord(_Tokens, Record):
    """One model request (retries included in `attempts`), successful or not."""

    kind: ClassVar[str] = "call"
    schema: int = SCHEMA
    run_id: str
    agent: str
    model: str
    started_at: str
    duration_s: float
    attempts: int
    status: str  # ok | error
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    usage_estimated: bool | None = field(default=None, metadata=ADDITIVE)  # True: counted offline, not reported
    queued_s: float | None = field(default=None, metadata=ADDITIVE)  # of duration_s, waiting for a provider slot


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentRecord(_Tokens, Record):
    """One run of one agent (or its skip, or the calls of a run that was cut off)."""

    kind: ClassVar[str] = "agent"
    schema: int = SCHEMA
    run_id: str
    agent: str
    tier: str
    model: str | None
    provider: str | None
    status: str  # done | failed | skipped | interrupted
    skip_reason: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float = 0.0
    turns: int = 0
    tool_calls: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    context_tokens: list[int] = field(default_factory=list)
    handoff_tokens: int = 0
    refusals: int | None = field(default=None, metadata=ADDITIVE)  # tool calls the sandbox refused
    compactions: int | None = field(default=None, metadata=ADDITIVE)  # turns whose context was compacted
    elided_tokens: int | None = field(default=None, metadata=ADDITIVE)  # tokens compaction left out

    @property
    def ran(self) -> bool:
        return self.status != "skipped"


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerRecord(Record):
    """One measured stretch of code (a `PerformanceTimer`): a phase, the test gate, the analysers."""

    kind: ClassVar[str] = "timer"
    schema: int = SCHEMA
    run_id: str
    name: str
    started_at: str
    duration_s: float


MetricRecord = CallRecord | AgentRecord | TimerRecord
RECORD_TYPES: tuple[type[CallRecord], type[AgentRecord], type[TimerRecord]] = (CallRecord, AgentRecord, TimerRecord)
R = TypeVar("R", CallRecord, AgentRecord, TimerRecord)


# ---------------------------------------------------------------- builders
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
    usage_estimated: bool = False,
    queued_s: float = 0.0,
) -> CallRecord:
    return CallRecord(
        run_id=run_id,
        agent=agent,
        model=model,
        started_at=iso(started_at),
        duration_s=round(duration_s, 6),
        attempts=attempts,
        status=status,
        **_token_fields(usage),
        cost_usd=cost_usd,
        usage_estimated=True if usage_estimated else None,
        queued_s=round(min(queued_s, duration_s), 6) if queued_s > 0 else None,
    )


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
    refusals: int | None = None,
    compactions: int | None = None,
    elided_tokens: int | None = None,
) -> AgentRecord:
    duration = (ended_at - started_at).total_seconds() if started_at and ended_at else 0.0
    return AgentRecord(
        run_id=run_id,
        agent=agent,
        tier=tier,
        model=model,
        provider=provider,
        status=status,
        skip_reason=skip_reason,
        started_at=iso(started_at) if started_at else None,
        ended_at=iso(ended_at) if ended_at else None,
        duration_s=round(duration, 6),
        turns=turns,
        tool_calls=dict(tool_calls or {}),
        **_token_fields(usage),
        cost_usd=cost_usd,
        context_tokens=list(context_tokens or []),
        handoff_tokens=handoff_tokens,
        refusals=refusals,
        compactions=compactions,
        elided_tokens=elided_tokens,
    )


def timer_record(*, run_id: str, name: str, started_at: datetime, duration_s: float) -> TimerRecord:
    return TimerRecord(run_id=run_id, name=name, started_at=iso(started_at), duration_s=round(duration_s, 6))


def _token_fields(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }


# ---------------------------------------------------------------- the reader
_KINDS = {cls.kind: cls for cls in RECORD_TYPES}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {}  # built on first use: a writer never pays for the reader


def parse_record(data: object) -> MetricRecord | None:
    """The typed record a decoded JSON line holds, or None (not a record, an unknown kind, fields that don't fit)."""
    if not isinstance(data, Mapping):
        return None
    kind = str(data.get("kind"))
    if kind not in _KINDS:
        return None
    adapter = _ADAPTERS.get(kind) or _ADAPTERS.setdefault(kind, TypeAdapter(_KINDS[kind]))
    try:
        record: MetricRecord = adapter.validate_python(data)
    except ValidationError:
        return None
    return record


def parse_lines(lines: Iterable[str]) -> list[MetricRecord]:
    records = []
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash: skip it rather than lose the report
        if (record := parse_record(data)) is not None:
            records.append(record)
    return records


def read_metrics(path: Path) -> list[MetricRecord]:
    """Every record of a metrics.jsonl file (a run's, or the cross-run cache); none if it does not exist."""
    if not path.is_file():
        return []
    return parse_lines(path.read_text(encoding="utf-8").splitlines())


def of_kind(records: Iterable[object], kind: type[R]) -> list[R]:
    """The records of one kind, in order: `of_kind(records, AgentRecord)`."""
    return [record for record in records if isinstance(record, kind)]
