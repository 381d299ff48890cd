"""`autodev bench cost`: one pipeline's token usage priced all-deep, tiered, and with prompt caching.

The pipeline is the demo's (bundled project, scripted replies, real tools and tests), run twice side
by side: once with each agent on its own tier, once with every agent on the deep tier. Each run's
requests go through the real Anthropic request builder and a simulation of Anthropic's prompt cache
(`cache_sim`), so the cache figures reflect the breakpoints we actually place. Input tokens are
offline estimates of the real prompts; output tokens are the script's. Before counting, the parts of a
prompt that differ between two runs or two machines (the temporary directory, run ids, commit SHAs,
durations, where the interpreter is installed) are replaced by fixed text (`steady`), so the figures
repeat.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autodev.apps.bench.cache_sim import PromptCacheSimulator
from autodev.apps.demo import DEMO_REQUEST, demo_dir, make_demo_repo
from autodev.config.settings import DEFAULT_TIER_MODELS, CliOverrides
from autodev.core.records import CallRecord, of_kind
from autodev.engines.local.launch import execute
from autodev.models import ModelRequest, ModelResponse, Usage
from autodev.models.adapters.anthropic import build_params
from autodev.models.fakes.scripted import ScriptedModel, ScriptedProvider
from autodev.models.pricing import PriceTable, load_price_table
from autodev.run.plan import prepare

CLAUDE = DEFAULT_TIER_MODELS["anthropic"]
_VARYING = (
    (re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}"), "20260101-000000-000000"),  # run ids
    (re.compile(r"\b[0-9a-f]{7,40}\b"), "0000000"),  # commit SHAs
    (re.compile(r"\d+\.\d+ ?s\b"), "0.0s"),  # durations
    (re.compile(r"(?:/[\w.+-]+)+/(python[\d.]*)\b"), r"\1"),  # this machine's interpreter
)


def steady(params: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The request with what varies from run to run (where it ran, ids, SHAs, times) made fixed."""
    text = json.dumps(params).replace(str(workdir), "/tmp/autodev-bench")
    for pattern, fixed in _VARYING:
        text = pattern.sub(fixed, text)
    steady_params: dict[str, Any] = json.loads(text)
    return steady_params


@dataclass
class SimulatedAnthropicModel:
    """Scripted replies; usage reported as Anthropic would, caching included."""

    inner: ScriptedModel
    cache: PromptCacheSimulator
    workdir: Path
    provider: str = "anthropic-simulated"

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    async def complete(self, request: ModelRequest) -> ModelResponse:
        response = await self.inner.complete(request)
        usage = self.cache.usage(
            steady(build_params(request, self.model_id), self.workdir), response.usage.output_tokens
        )
        return replace(response, usage=usage)


@dataclass
class SimulatedAnthropicProvider:
    scripted: ScriptedProvider
    workdir: Path
    cache: PromptCacheSimulator = field(default_factory=PromptCacheSimulator)
    name: str = "anthropic-simulated"
    web_search: bool = True

    def model(self, model_id: str) -> SimulatedAnthropicModel:
        return SimulatedAnthropicModel(self.scripted.model(model_id), self.cache, self.workdir)


@dataclass(frozen=True)
class Call:
    agent: str
    model: str
    usage: Usage

    @property
    def uncached(self) -> Usage:
        return Usage(input_tokens=self.usage.context_tokens, output_tokens=self.usage.output_tokens)


def run_pipeline(tier_models: dict[str, str], workdir: Path, min_cache_tokens: int) -> list[Call]:
    repo = make_demo_repo(workdir)
    provider = SimulatedAnthropicProvider(
        ScriptedProvider.from_file(demo_dir() / "script.yaml", delay_scale=0.0),
        workdir,
        PromptCacheSimulator(min_cache_tokens),
    )
    models = tuple(f"{tier}={model}" for tier, model in tier_models.items())
    plan = prepare(DEMO_REQUEST, repo, CliOverrides(provider="scripted", models=models), web_search=True)
    orchestrator, state = execute(plan, provider)
    if state.status != "done":
        raise RuntimeError(f"benchmark pipeline failed: {state.error}")
    return [
        Call(r.agent, r.model, r.usage) for r in of_kind(orchestrator.metrics.written, CallRecord) if r.status == "ok"
    ]


def _cost(table: PriceTable, calls: list[Call], *, cached: bool) -> float:
    total = 0.0
    for call in calls:
        cost = table.cost(call.model, call.usage if cached else call.uncached)
        if cost is None:
            raise RuntimeError(f"no price for {call.model}")
        total += cost
    return total


def cost_benchmark(min_cache_tokens: int = 1024) -> dict[str, Any]:
    table = load_price_table()
    with tempfile.TemporaryDirectory(prefix="autodev-bench-") as tmp:
        tiered = run_pipeline(dict(CLAUDE), Path(tmp), min_cache_tokens)
        deep = run_pipeline({tier: CLAUDE["deep"] for tier in CLAUDE}, Path(tmp), min_cache_tokens)
    prices = {
        "all_deep": _cost(table, deep, cached=False),
        "all_deep_cached": _cost(table, deep, cached=True),
        "tiered": _cost(table, tiered, cached=False),
        "tiered_cached": _cost(table, tiered, cached=True),
    }
    per_agent: dict[str, dict[str, Any]] = defaultdict(lambda: {"input": 0, "output": 0, "cache_read": 0})
    for call in tiered:
        row = per_agent[call.agent]
        row["model"] = call.model
        row["input"] += call.usage.context_tokens
        row["output"] += call.usage.output_tokens
        row["cache_read"] += call.usage.cache_read_tokens
        row.setdefault("cost_deep", 0.0)
        row.setdefault("cost_tiered", 0.0)
        row.setdefault("cost_tiered_cached", 0.0)
        row["cost_deep"] += table.cost(CLAUDE["deep"], call.uncached) or 0.0
        row["cost_tiered"] += table.cost(call.model, call.uncached) or 0.0
        row["cost_tiered_cached"] += table.cost(call.model, call.usage) or 0.0
    input_total = sum(c.usage.context_tokens for c in tiered)
    read_total = sum(c.usage.cache_read_tokens for c in tiered)
    return {
        "prices_read_on": table.read_on,
        "models": dict(CLAUDE),
        "calls": len(tiered),
        "input_tokens": input_total,
        "output_tokens": sum(c.usage.output_tokens for c in tiered),
        "cache_read_share": read_total / input_total if input_total else 0.0,
        "min_cache_tokens": min_cache_tokens,
        "usd": prices,
        "ratio_to_all_deep": {k: v / prices["all_deep"] for k, v in prices.items()},
        "agents": dict(per_agent),
    }
