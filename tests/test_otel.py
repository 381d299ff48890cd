"""OpenTelemetry spans (GenAI semantic conventions) around agent runs, model requests and tool calls.

Spans go to the SDK's in-memory exporter; tracing is switched off again after every test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from scripts import CALC_FILES, REQUEST, feature_script

from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.config.settings import CliOverrides, load_settings
from autodev.core import otel
from autodev.core.errors import UserError
from autodev.core.metrics import MetricsSink
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.sandbox.workspace import Workspace
from autodev.tools.files import builtin_tools

MODEL_ID = "claude-sonnet-5-5"

SCRIPT: list[dict[str, Any]] = [
    {
        "text": "Reading first.",
        "tool_calls": [
            {"name": "Read", "input": {"file_path": "greet.py"}},
            {"name": "Read", "input": {"file_path": "missing.py"}},
            {"name": "Teleport", "input": {}},
        ],
        "usage": {"input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 40, "cache_write_tokens": 7},
    },
    {
        "text": "greet() says hello.",
        "usage": {"input_tokens": 200, "output_tokens": 20, "cache_read_tokens": 50, "cache_write_tokens": 0},
    },
]


@pytest.fixture(autouse=True)
def tracing_off() -> Iterator[None]:
    otel.disable_tracing()
    yield
    otel.disable_tracing()


def traced() -> tuple[InMemorySpanExporter, TracerProvider]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory, provider


def run_one(tmp_path: Path, replies: list[dict[str, Any]]) -> AgentOutcome:
    root = tmp_path / "work"
    root.mkdir(exist_ok=True)
    (root / "greet.py").write_text('def greet(name):\n    return "Hello " + name\n', encoding="utf-8")
    spec = AgentSpec(
        name="researcher-local",
        description="Finds things.",
        prompt="You find things.",
        source=Path("researcher-local.md"),
        tools=("Read",),
        max_turns=4,
    )
    model = ScriptedProvider({"agents": {"researcher-local": replies}}).model(MODEL_ID)
    inputs = AgentInputs(
        spec=spec,
        model=model,
        task="What does greet() do?",
        workspace=Workspace(root),
        tools={"Read": builtin_tools()["Read"]},
        run_id="run-otel",
        session_path=tmp_path / "sessions" / "researcher-local.md",
        metrics=MetricsSink(tmp_path / "metrics.jsonl"),
    )

    async def main() -> AgentOutcome:
        return await run_agent(inputs)

    return anyio.run(main)


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def test_an_agent_run_makes_invoke_agent_chat_and_execute_tool_spans(tmp_path: Path) -> None:
    memory, provider = traced()
    otel.enable_tracing(provider)
    outcome = run_one(tmp_path, SCRIPT)
    assert outcome.ok, outcome.error
    spans = memory.get_finished_spans()
    names = by_name(spans)
    assert sorted(names) == [
        f"chat {MODEL_ID}",
        "execute_tool Read",
        "execute_tool Teleport",
        "invoke_agent researcher-local",
    ]
    assert len(names[f"chat {MODEL_ID}"]) == 2 and len(names["execute_tool Read"]) == 2

    (agent,) = names["invoke_agent researcher-local"]
    assert agent.parent is None
    assert agent.kind is SpanKind.INTERNAL
    assert agent.status.status_code is StatusCode.UNSET
    assert agent.attributes is not None
    assert dict(agent.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "scripted",
        "gen_ai.agent.name": "researcher-local",
        "gen_ai.request.model": MODEL_ID,
        "gen_ai.response.model": MODEL_ID,
        "autodev.run_id": "run-otel",
        # input counts cached tokens too: (100 + 40 + 7) + (200 + 50 + 0)
        "gen_ai.usage.input_tokens": 397,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.usage.cache_read.input_tokens": 90,
        "gen_ai.usage.cache_creation.input_tokens": 7,
    }
    assert agent.context is not None
    for span in spans:
        assert span.context is not None and span.context.trace_id == agent.context.trace_id
        if span is not agent:
            assert span.parent is not None and span.parent.span_id == agent.context.span_id

    first, second = sorted(names[f"chat {MODEL_ID}"], key=lambda span: span.start_time or 0)
    assert first.kind is SpanKind.CLIENT
    assert first.attributes is not None and second.attributes is not None
    assert dict(first.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "scripted",
        "gen_ai.request.model": MODEL_ID,
        "gen_ai.request.max_tokens": 8192,
        "gen_ai.response.model": MODEL_ID,
        "gen_ai.usage.input_tokens": 147,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 40,
        "gen_ai.usage.cache_creation.input_tokens": 7,
        "gen_ai.response.finish_reasons": ("tool_use",),
    }
    assert second.attributes["gen_ai.usage.input_tokens"] == 250
    assert second.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    # the tool calls ran between the two model requests
    tool_spans = [*names["execute_tool Read"], *names["execute_tool Teleport"]]
    assert all(
        (first.end_time or 0) <= (t.start_time or 0) <= (t.end_time or 0) <= (second.start_time or 0)
        for t in tool_spans
    )


def test_tool_spans_carry_the_tool_and_mark_error_results(tmp_path: Path) -> None:
    memory, provider = traced()
    otel.enable_tracing(provider)
    run_one(tmp_path, SCRIPT)
    names = by_name(memory.get_finished_spans())
    ok, missing = sorted(names["execute_tool Read"], key=lambda span: span.start_time or 0)
    assert ok.attributes is not None and missing.attributes is not None
    assert ok.kind is SpanKind.INTERNAL
    assert dict(ok.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "Read",
        "gen_ai.tool.call.id": "call_0001",
        "gen_ai.tool.type": "function",
    }
    assert ok.status.status_code is StatusCode.UNSET
    assert missing.status.status_code is StatusCode.ERROR
    assert missing.attributes["error.type"] == "tool_error"
    (unknown,) = names["execute_tool Teleport"]
    assert unknown.status.status_code is StatusCode.ERROR
    assert unknown.attributes is not None and unknown.attributes["error.type"] == "unknown_tool"
    assert "unknown tool 'Teleport'" in (unknown.status.description or "")


def test_a_failed_model_request_marks_the_chat_and_agent_spans(tmp_path: Path) -> None:
    memory, provider = traced()
    otel.enable_tracing(provider)
    outcome = run_one(tmp_path, [{"error": "upstream exploded"}])
    assert not outcome.ok
    names = by_name(memory.get_finished_spans())
    (chat,) = names[f"chat {MODEL_ID}"]
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes is not None and chat.attributes["error.type"] == "ModelError"
    assert "gen_ai.response.model" not in chat.attributes
    assert any(event.name == "exception" for event in chat.events)
    (agent,) = names["invoke_agent researcher-local"]
    assert agent.status.status_code is StatusCode.ERROR
    assert agent.attributes is not None and agent.attributes["error.type"] == "agent_failed"
    assert "upstream exploded" in (agent.status.description or "")


def test_disabled_means_no_spans(tmp_path: Path) -> None:
    memory, provider = traced()
    otel.enable_tracing(provider)
    otel.disable_tracing()
    outcome = run_one(tmp_path, SCRIPT)
    assert outcome.ok
    assert memory.get_finished_spans() == ()
    assert not otel.enabled()
    # and the hooks are one shared do-nothing context
    assert otel.agent_span("a", "m", "p", "r") is otel.chat_span("m", "p", 1) is otel.tool_span("t", "id")


def test_off_by_default_imports_nothing_from_opentelemetry() -> None:
    code = (
        "import sys\n"
        "import autodev.apps.cli.main, autodev.agent.runtime, autodev.engines.local.run\n"
        "from autodev.core import otel\n"
        "assert not otel.enabled()\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_enabling_without_the_packages_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    with pytest.raises(UserError) as caught:
        otel.enable_tracing()
    assert caught.value.hint is not None and "pip install 'autonomous-dev[otel]'" in caught.value.hint
    assert not otel.enabled()


def test_enabling_without_the_sdk_and_no_global_provider_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace

    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    with pytest.raises(UserError) as caught:
        otel.enable_tracing()
    assert caught.value.hint is not None and "autonomous-dev[otel]" in caught.value.hint


def test_a_global_provider_set_by_the_application_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from opentelemetry import trace

    memory, provider = traced()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    otel.enable_tracing()
    run_one(tmp_path, SCRIPT[1:])
    assert sorted(by_name(memory.get_finished_spans())) == [f"chat {MODEL_ID}", "invoke_agent researcher-local"]


def test_exporter_choice_follows_otel_traces_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    console = otel._exporter_from_env()
    assert isinstance(console, ConsoleSpanExporter) and console.out is sys.stderr  # stdout stays for --json
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert otel._exporter_from_env() is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(UserError, match="zipkin"):
        otel._exporter_from_env()
    monkeypatch.delenv("OTEL_TRACES_EXPORTER")
    for kind in ("http", "grpc"):
        monkeypatch.setitem(sys.modules, f"opentelemetry.exporter.otlp.proto.{kind}.trace_exporter", None)
    with pytest.raises(UserError) as caught:
        otel._exporter_from_env()
    assert caught.value.hint is not None and "OTEL_TRACES_EXPORTER=console" in caught.value.hint


def test_config_and_env_switch_tracing_on(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".autodev").mkdir(parents=True)
    assert load_settings(repo, env={}).otel is None
    (repo / ".autodev" / "config.toml").write_text("otel = true\n", encoding="utf-8")
    settings = load_settings(repo, env={})
    assert settings.otel is True and settings.sources["otel"].endswith("config.toml")
    off = load_settings(repo, env={"AUTODEV_OTEL": "0"})
    assert off.otel is False and off.sources["otel"] == "env AUTODEV_OTEL"
    assert load_settings(None, env={"AUTODEV_OTEL": "1"}).otel is True
    with pytest.raises(UserError, match="AUTODEV_OTEL"):
        load_settings(None, env={"AUTODEV_OTEL": "maybe"})


def test_a_pipeline_run_with_otel_on_traces_every_agent(make_repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    memory, provider = traced()
    monkeypatch.setattr(otel, "_global_provider", lambda: provider)
    monkeypatch.setenv("AUTODEV_OTEL", "1")
    repo = make_repo(CALC_FILES)
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script()))
    assert result.state.status == "done", result.state.error
    names = by_name(memory.get_finished_spans())
    agents = {name.removeprefix("invoke_agent ") for name in names if name.startswith("invoke_agent ")}
    assert agents == {name for name, agent in result.state.agents.items() if agent.status == "done"}
    assert "execute_tool Edit" in names
    chats = [span for name, spans in names.items() if name.startswith("chat ") for span in spans]
    calls = [line for line in (result.run_dir / "metrics.jsonl").read_text().splitlines() if '"kind": "call"' in line]
    assert len(chats) == len(calls)  # one chat span per model request, as one call record
