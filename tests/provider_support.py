"""Helpers for the provider tests: one agent run against a real adapter, a fake clock, a spying tool.

`run_one_agent` drives `autodev.agent.runtime.run_agent` (the real tool loop) with any `Model` — usually a real
adapter whose SDK points at a fake server — and returns its outcome and the metric records it wrote; pass the
adapter's provider as `close=[provider]` so its SDK client is closed in the loop that used it.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpcore2

from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.core.metrics import MetricsSink
from autodev.models import Model, ToolDefinition, Usage
from autodev.sandbox.workspace import Workspace
from autodev.tools.base import Tool, ToolContext
from autodev.tools.files import builtin_tools

GREET = 'def greet(name):\n    return "Hello " + name\n'
LONG_SYSTEM = "You are a careful engineer who reads before editing and tests every change. " * 70  # ~1,400 tokens


@contextlib.contextmanager
def shared_tls_context() -> Iterator[None]:
    """Build the default TLS context once instead of once per SDK client.

    Every `Anthropic`/`OpenAI` client loads the system CA bundle when it is made (~80 ms); these tests make a client
    per test and only ever speak plain HTTP to 127.0.0.1, so one shared context is enough and saves seconds."""
    original = httpcore2.default_ssl_context
    cache: dict[bool, ssl.SSLContext] = {}

    def shared(*, _trust_env: bool = True) -> ssl.SSLContext:
        if _trust_env not in cache:
            cache[_trust_env] = original(_trust_env=_trust_env)
        return cache[_trust_env]

    httpcore2.default_ssl_context = shared
    try:
        yield
    finally:
        httpcore2.default_ssl_context = original


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        # Always move a little: a wait below the float resolution of `now` would otherwise never end.
        self.now += max(1e-6, seconds)
        await anyio.lowlevel.checkpoint()


@dataclass
class SpyTool:
    """A tool that records what it was called with (to prove a call did, or did not, run)."""

    name: str = "Spy"
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def definition(self) -> ToolDefinition:
        schema = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
        return ToolDefinition(self.name, "Records its arguments.", schema)

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        self.calls.append(dict(args))
        return f"spied {args.get('path')}"


@dataclass
class AgentRun:
    outcome: AgentOutcome
    metrics: MetricsSink
    session_path: Path

    def records(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.metrics.records if r["kind"] == kind]

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.records("call")


async def close_clients(providers: Iterable[Any]) -> None:
    """Close the SDK clients of adapters (bare or wrapped) inside the event loop that used them.

    An async SDK client left to the garbage collector tries to close its connections on whatever loop is running
    then, i.e. a later test's, and logs "Event loop is closed"."""
    for provider in providers:
        while provider is not None and not hasattr(provider, "_client"):
            provider = getattr(provider, "inner", None)
        if provider is not None:
            await provider._client.close()


def make_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "greet.py").write_text(GREET, encoding="utf-8")
    return root


def run_one_agent(
    model: Model,
    tmp_path: Path,
    *,
    name: str = "implementer",
    prompt: str = "You are the implementer.",
    task: str = "Make greet() add an exclamation mark.",
    tools: tuple[str, ...] = ("Read",),
    extra_tools: Mapping[str, Tool] | None = None,
    max_turns: int = 6,
    context: str = "",
    web_search: bool = False,
    price: Callable[[str, Usage], float | None] | None = None,
    context_window: int | None = None,
    max_tokens: int = 1024,
    run_id: str = "run-test",
    close: Iterable[Any] = (),
) -> AgentRun:
    root = make_workspace(tmp_path)
    spec = AgentSpec(
        name=name,
        description="test agent",
        prompt=prompt,
        source=Path(f"{name}.md"),
        tools=tools,
        max_turns=max_turns,
    )
    offered: dict[str, Any] = {n: t for n, t in builtin_tools().items() if n in tools}
    offered.update(extra_tools or {})
    run_dir = tmp_path / f"run-{name}"
    metrics = MetricsSink(run_dir / "metrics.jsonl")
    session_path = run_dir / "sessions" / f"{name}.md"
    inputs = AgentInputs(
        spec=spec,
        model=model,
        task=task,
        workspace=Workspace(root),
        tools=offered,
        run_id=run_id,
        session_path=session_path,
        metrics=metrics,
        max_tokens=max_tokens,
        context=context,
        web_search=web_search,
        price=price,
        context_window=context_window,
    )

    async def main() -> AgentOutcome:
        try:
            return await run_agent(inputs)
        finally:
            await close_clients(close)

    return AgentRun(anyio.run(main), metrics, session_path)
