"""Typed metric records: the builders give exactly the JSON the contract has (keys, order, rounding), the one
reader turns lines back into the same records and skips what it cannot read, and the sink writes them
redacted while keeping them as passed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autodev.core.metrics import MetricsSink, agent_record, call_record, timer_record
from autodev.core.records import AgentRecord, CallRecord, TimerRecord, of_kind, parse_lines, parse_record, read_metrics
from autodev.core.usage import Usage

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
AWS_ID = "AKIA" + "Q3EGRTWBZJK4NXYP"


def finished_agent() -> AgentRecord:
    return agent_record(
        run_id="r1",
        agent="implementer",
        tier="balanced",
        model="claude-sonnet-5-5",
        provider="anthropic",
        status="done",
        started_at=T0,
        ended_at=T0 + timedelta(seconds=2.0000004),
        turns=2,
        tool_calls=Counter({"Edit": 1, "Read": 2}),
        usage=Usage(100, 20, 30, 4),
        cost_usd=0.0123,
        context_tokens=[134, 150],
        handoff_tokens=77,
        refusals=1,
        compactions=0,
        elided_tokens=0,
    )


def test_a_finished_agents_record_is_the_contracts_line_key_for_key() -> None:
    assert list(finished_agent().to_json().items()) == [
        ("schema", 1), ("kind", "agent"), ("run_id", "r1"), ("agent", "implementer"), ("tier", "balanced"),
        ("model", "claude-sonnet-5-5"), ("provider", "anthropic"), ("status", "done"), ("skip_reason", None),
        ("started_at", "2026-01-02T03:04:05.123456+00:00"), ("ended_at", "2026-01-02T03:04:07.123456+00:00"),
        ("duration_s", 2.0), ("turns", 2), ("tool_calls", {"Edit": 1, "Read": 2}), ("input_tokens", 100),
        ("output_tokens", 20), ("cache_read_tokens", 30), ("cache_write_tokens", 4), ("cost_usd", 0.0123),
        ("context_tokens", [134, 150]), ("handoff_tokens", 77), ("refusals", 1), ("compactions", 0),
        ("elided_tokens", 0),
    ]  # fmt: skip


def test_a_skipped_agents_record_has_no_additive_fields() -> None:
    record = agent_record(
        run_id="r1", agent="doc-master", tier="fast", model="m", provider="p", status="skipped", skip_reason="docs"
    )
    data = record.to_json()
    assert "refusals" not in data and "compactions" not in data and "elided_tokens" not in data
    assert (data["started_at"], data["ended_at"], data["duration_s"], data["cost_usd"]) == (None, None, 0.0, None)
    assert (data["tool_calls"], data["context_tokens"]) == ({}, [])
    assert not record.ran


def test_call_and_timer_records_round_durations_to_the_microsecond() -> None:
    call = call_record(
        run_id="r1", agent="planner", model="m", started_at=T0, duration_s=1.23456789, attempts=2, status="ok",
        usage=Usage(5, 6, 7, 8), cost_usd=None,
    )  # fmt: skip
    assert call.to_json() == {
        "schema": 1, "kind": "call", "run_id": "r1", "agent": "planner", "model": "m",
        "started_at": "2026-01-02T03:04:05.123456+00:00", "duration_s": 1.234568, "attempts": 2, "status": "ok",
        "input_tokens": 5, "output_tokens": 6, "cache_read_tokens": 7, "cache_write_tokens": 8, "cost_usd": None,
    }  # fmt: skip
    assert call.usage == Usage(5, 6, 7, 8)
    estimated = call_record(
        run_id="r1", agent="a", model="m", started_at=T0, duration_s=0, attempts=1, status="ok", usage=Usage(),
        usage_estimated=True,
    )  # fmt: skip
    assert list(estimated.to_json())[-1] == "usage_estimated" and estimated.to_json()["usage_estimated"] is True
    timer = timer_record(run_id="r1", name="test_gate", started_at=T0, duration_s=0.0000004)
    assert timer.to_json() == {
        "schema": 1, "kind": "timer", "run_id": "r1", "name": "test_gate",
        "started_at": "2026-01-02T03:04:05.123456+00:00", "duration_s": 0.0,
    }  # fmt: skip


def test_the_json_of_a_record_is_a_copy() -> None:
    record = finished_agent()
    record.to_json()["tool_calls"]["Bash"] = 9
    record.to_json()["context_tokens"].append(1)
    assert record.tool_calls == {"Edit": 1, "Read": 2} and record.context_tokens == [134, 150]


def test_the_reader_gives_back_the_records_written() -> None:
    records = [finished_agent(), timer_record(run_id="r1", name="build_phase", started_at=T0, duration_s=3.5)]
    lines = [json.dumps(record.to_json()) for record in records]
    assert parse_lines(lines) == records
    assert of_kind(parse_lines(lines), TimerRecord) == records[1:]


def test_the_reader_ignores_unknown_keys_and_skips_what_it_cannot_read(tmp_path: Path) -> None:
    agent = finished_agent().to_json()
    lines = [
        json.dumps({**agent, "a_newer_field": [1, 2]}),  # read, the unknown key ignored
        json.dumps({"schema": 1, "kind": "span", "run_id": "r1"}),  # a kind this version does not know
        json.dumps({"schema": 1, "kind": "timer", "run_id": "r1"}),  # required fields missing
        json.dumps({**agent, "turns": "many"}),  # a field of the wrong type
        "[1, 2, 3]",
        "",
        json.dumps(agent)[:50],  # cut off by a crash
    ]
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert read_metrics(path) == [finished_agent()]
    assert read_metrics(tmp_path / "missing.jsonl") == []
    assert parse_record("not a mapping") is None


def test_an_older_agent_record_without_the_additive_fields_reads_and_writes_as_it_was() -> None:
    old = {key: value for key, value in finished_agent().to_json().items() if key not in ("refusals", "compactions")}
    old.pop("elided_tokens")
    record = parse_record(old)
    assert isinstance(record, AgentRecord) and record.refusals is None
    assert record.to_json() == old


def test_the_sink_writes_typed_records_redacted_and_keeps_them_as_passed(tmp_path: Path) -> None:
    sink = MetricsSink(tmp_path / "run" / "metrics.jsonl", tmp_path / "cache" / "performance_metrics.jsonl")
    timer = timer_record(run_id="r1", name=f"phase {AWS_ID}", started_at=T0, duration_s=0.5)
    call = call_record(
        run_id="r1", agent="a", model="m", started_at=T0, duration_s=1, attempts=1, status="ok", usage=Usage(1, 2)
    )
    sink.write(timer)
    sink.write(call)
    sink.close()
    for path in (sink.run_file, sink.cache_file):
        assert path is not None
        on_disk = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert on_disk[0] == {**timer.to_json(), "name": "phase [REDACTED:aws_access_key_id]"}
        assert on_disk[1] == call.to_json()
    assert sink.written == [timer, call]
    assert sink.records == [timer.to_json(), call.to_json()]
    assert of_kind(sink.written, CallRecord) == [call]
