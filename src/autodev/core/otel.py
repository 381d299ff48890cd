"""OpenTelemetry spans for agent runs, model requests and tool calls (GenAI semantic conventions).

    invoke_agent {agent}            one agent run (runtime.run_agent)
      chat {model}                  one model request, retries included
      execute_tool {tool}           one tool call

Off unless asked for: config `otel = true`, env `AUTODEV_OTEL=1`, or `enable_tracing()` from code
(optionally with your own `TracerProvider`). While off, each hook returns one shared null context and
nothing from `opentelemetry` is imported, so the runtime pays a function call and an `is None` test.

Enabled without a provider: the global one is used when something (your code, `opentelemetry-instrument`)
has set it; else an SDK provider is made, exporting as `OTEL_TRACES_EXPORTER` says: `otlp` (the
default; needs an OTLP exporter package), `console` (JSON on stderr, so `--json` stays clean) or `none`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from autodev.core.errors import UserError

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from autodev.core.usage import Usage

INSTRUMENTATION_NAME = "autodev"
INSTALL_HINT = "pip install 'autonomous-dev[otel]'"

_tracer: Tracer | None = None
_lock = threading.Lock()
_NULL: AbstractContextManager[None] = contextlib.nullcontext()  # reusable: entering it does nothing


def enabled() -> bool:
    return _tracer is not None


def enable_tracing(tracer_provider: TracerProvider | None = None) -> None:
    """Start emitting spans, to `tracer_provider` or (when None) to the global / a new SDK provider."""
    global _tracer
    try:
        import opentelemetry.trace  # noqa: F401  (is the API installed?)
    except ImportError as exc:
        raise UserError("OpenTelemetry tracing needs the opentelemetry packages", hint=INSTALL_HINT) from exc
    from autodev import __version__

    with _lock:
        if tracer_provider is None and _tracer is not None:
            return  # already on; a second `otel = true` run keeps the first provider
        provider = tracer_provider if tracer_provider is not None else _global_provider()
        _tracer = provider.get_tracer(INSTRUMENTATION_NAME, __version__)


def disable_tracing() -> None:
    global _tracer
    with _lock:
        _tracer = None


def _global_provider() -> TracerProvider:
    from opentelemetry import trace

    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        return current  # set up by the application or by opentelemetry-instrument
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise UserError("OpenTelemetry tracing needs the opentelemetry SDK", hint=INSTALL_HINT) from exc
    service = os.environ.get("OTEL_SERVICE_NAME") or "autodev"
    provider = SdkTracerProvider(resource=Resource.create({"service.name": service}))
    exporter = _exporter_from_env()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _exporter_from_env() -> Any:
    choice = (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")[0].strip().lower()
    if choice == "none":
        return None
    if choice == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(out=sys.stderr)
    if choice != "otlp":
        raise UserError(f"OTEL_TRACES_EXPORTER={choice!r} is not supported here; use otlp, console or none")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    kinds = ("grpc", "http") if protocol == "grpc" else ("http", "grpc")
    for kind in kinds:
        try:
            module = importlib.import_module(f"opentelemetry.exporter.otlp.proto.{kind}.trace_exporter")
        except ImportError:
            continue
        return module.OTLPSpanExporter()
    raise UserError(
        "OpenTelemetry tracing is on, but no OTLP exporter is installed",
        hint="pip install opentelemetry-exporter-otlp-proto-http, or set OTEL_TRACES_EXPORTER=console",
    )


# ---------------------------------------------------------------- spans
@contextlib.contextmanager
def _span(tracer: Tracer, name: str, attributes: Mapping[str, Any], client: bool) -> Iterator[Span]:
    from opentelemetry.trace import SpanKind

    kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
    with tracer.start_as_current_span(name, kind=kind, attributes=dict(attributes)) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            raise  # the SDK records the exception and sets the error status on the way out


def agent_span(agent: str, model: str, provider: str, run_id: str) -> AbstractContextManager[Span | None]:
    tracer = _tracer
    if tracer is None:
        return _NULL
    attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": provider,
        "gen_ai.agent.name": agent,
        "gen_ai.request.model": model,
        "autodev.run_id": run_id,
    }
    return _span(tracer, f"invoke_agent {agent}", attributes, client=False)


def chat_span(model: str, provider: str, max_tokens: int) -> AbstractContextManager[Span | None]:
    tracer = _tracer
    if tracer is None:
        return _NULL
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.request.max_tokens": max_tokens,
    }
    return _span(tracer, f"chat {model}", attributes, client=True)


def tool_span(tool: str, call_id: str) -> AbstractContextManager[Span | None]:
    tracer = _tracer
    if tracer is None:
        return _NULL
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
    }
    return _span(tracer, f"execute_tool {tool}", attributes, client=False)


def record_response(span: Span | None, model: str, usage: Usage, finish_reason: str | None = None) -> None:
    """The model that answered and the tokens it reported, on a chat or invoke_agent span."""
    if span is None:
        return
    span.set_attribute("gen_ai.response.model", model)
    # The convention counts every input token, cached or not; our `input_tokens` never includes cached ones.
    span.set_attribute("gen_ai.usage.input_tokens", usage.context_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
    span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cache_read_tokens)
    span.set_attribute("gen_ai.usage.cache_creation.input_tokens", usage.cache_write_tokens)
    if finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])


def record_failure(span: Span | None, error_type: str, message: str) -> None:
    """A failure that did not raise: a failed agent, a tool call that returned an error."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    from autodev.core.redact import redact

    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, redact(message[:500])))
