"""`autodev bench pipeline`: speed, fast paths, cost and scale of the real orchestrator.

Everything but the model's timing is real: the demo project in a fresh git repository, the
scheduler, runtime, tools, state, metrics and the project's test suite. Replies come from scripts
(the demo's for the feature; small bundled ones for the docs, typo and config requests) and take
simulated time (`autodev.models.fakes.simulated`), scaled by `time_scale`. All times reported are measured
real seconds at that scale; divide by `time_scale` for the unscaled equivalent.

- scale: N pipelines at once through one `ProviderLimiter` (requests and tokens per minute, on the
  simulated clock); the limit-bound wall is max(one pipeline's bound, (tokens - T) / T minutes,
  (requests - R) / R minutes), the bucket starting full with one minute's budget; throughput
  ratio = limit-bound wall / measured wall. Memory: tracemalloc peak during the scale run / N.

The requests are in `pipeline_requests`, the figures of one run (bound, efficiency, speedups, overhead)
in `pipeline_figures`, the table in `pipeline_render`.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from autodev.apps.bench.pipeline_figures import figures
from autodev.apps.bench.pipeline_requests import CASES, Case
from autodev.apps.demo import DEMO_TIER_MODELS, make_demo_repo
from autodev.config.providers import ResilientProvider, limiter_for
from autodev.config.settings import CliOverrides
from autodev.engines.local.run import LocalRun
from autodev.models import (
    Model,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ModelWrapper,
    ProviderError,
    ProviderWrapper,
)
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.fakes.simulated import AGENT_SECONDS, TIER_SPEEDS, LatencyLog, SimulatedLatencyProvider
from autodev.models.resilience import ProviderLimiter, RetryPolicy
from autodev.run.plan import prepare

DEFAULT_TIME_SCALE = 0.02


@dataclass
class _Counter:
    errors_429: int = 0
    calls: int = 0


@dataclass
class _Counting(ModelWrapper):
    """A model wrapper that counts the 429s the pipelines see."""

    counter: _Counter

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.counter.calls += 1
        try:
            return await self.inner.complete(request)
        except ProviderError as error:
            if error.status == 429:
                self.counter.errors_429 += 1
            raise


@dataclass
class _CountingProvider(ProviderWrapper):
    counter: _Counter

    def wrap(self, model: Model) -> Model:
        return _Counting(model, self.counter)


@dataclass
class Prepared:
    case: Case
    orchestrator: LocalRun
    log: LatencyLog


def _prepare(
    case: Case,
    workdir: Path,
    time_scale: float,
    max_parallel: int | None,
    limiter: ProviderLimiter | None = None,
    run_id: str | None = None,
    counter: _Counter | None = None,
) -> Prepared:
    repo = make_demo_repo(workdir)
    case.setup(repo)
    script = case.script()
    tiers = {model: tier for tier, model in (item.split("=", 1) for item in DEMO_TIER_MODELS)}
    calls = {agent: len(replies) for agent, replies in script.agents.items()}
    simulated = SimulatedLatencyProvider(ScriptedProvider(script, delay_scale=0.0), tiers, calls, time_scale)
    cli = CliOverrides(provider="scripted", max_parallel=max_parallel, models=DEMO_TIER_MODELS)
    plan = prepare(case.request, repo, cli, web_search=True)
    inner: ModelProvider = simulated if counter is None else _CountingProvider(simulated, counter)
    provider = ResilientProvider(inner, limiter or limiter_for(plan.settings), RetryPolicy(max_attempts=1))
    orchestrator = LocalRun(plan, provider, run_id=run_id)
    orchestrator.setup()
    return Prepared(case, orchestrator, simulated.log)


def run_one(case: Case, workdir: Path, time_scale: float, max_parallel: int | None = None) -> dict[str, Any]:
    prepared = _prepare(case, workdir, time_scale, max_parallel)
    started = time.perf_counter()
    anyio.run(prepared.orchestrator.run)
    return figures(prepared.orchestrator, time.perf_counter() - started)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def speed_section(workdir: Path, time_scale: float) -> dict[str, Any]:
    sequential = run_one(CASES["feature"], workdir, time_scale, max_parallel=1)
    parallel = run_one(CASES["feature"], workdir, time_scale)
    return {
        "sequential": sequential,
        "parallel": parallel,
        "speedup": _ratio(sequential["wall_s"], parallel["wall_s"]),
        "research_speedup": _ratio(sequential["research_span_s"], parallel["research_span_s"]),
        "validation_speedup": _ratio(sequential["validation_span_s"], parallel["validation_span_s"]),
    }


def fast_path_section(workdir: Path, time_scale: float, feature: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for label in ("docs", "docs plan", "typo", "config"):
        run = run_one(CASES[label], workdir, time_scale)
        run["time_ratio_to_feature"] = _ratio(run["wall_s"], feature["wall_s"])
        run["cost_ratio_to_feature"] = _ratio(run["cost_usd"], feature["cost_usd"])
        result[label] = run
    return result


def scale_section(workdir: Path, time_scale: float, features: int, single: dict[str, Any]) -> dict[str, Any]:
    """`features` demo pipelines at once through one limiter, limits chosen so they bind."""
    requests_one = single["model_calls"]
    tokens_one = single["input_tokens"] + single["output_tokens"]
    simulated_wall_one = single["wall_s"] / time_scale
    # Limits per simulated minute such that, with the one-minute burst, the tokens bound is 1.5x one
    # pipeline's wall: T = N*K / (1 + 1.5*W/60); requests get twice that pace,
    # so tokens bind (a limit of a couple of requests a minute would only measure its own granularity).
    factor = 1 + 1.5 * simulated_wall_one / 60
    tpm = max(1, round(features * tokens_one / factor))
    rpm = max(1, round(2 * features * requests_one / factor))  # looser: tokens are the binding limit
    limiter = ProviderLimiter(
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        clock=lambda: time.monotonic() / time_scale,
        sleep=lambda seconds: anyio.sleep(seconds * time_scale),
    )
    counter = _Counter()
    prepared = [
        _prepare(CASES["feature"], workdir, time_scale, None, limiter, f"bench-scale-{i}", counter)
        for i in range(features)
    ]

    async def all_at_once() -> None:
        async with anyio.create_task_group() as group:
            for item in prepared:
                group.start_soon(item.orchestrator.run)

    tracemalloc.start()
    started = time.perf_counter()
    anyio.run(all_at_once)
    wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    runs = [figures(item.orchestrator, wall) for item in prepared]
    tokens = sum(r["input_tokens"] + r["output_tokens"] for r in runs)
    requests = sum(r["model_calls"] for r in runs)
    limit_wall_sim = max(
        single["bound_s"] / time_scale,
        (tokens - tpm) / tpm * 60,
        (requests - rpm) / rpm * 60,
    )
    limit_wall = limit_wall_sim * time_scale
    return {
        "features": features,
        "requests_per_minute": rpm,
        "tokens_per_minute": tpm,
        "limits_in": "simulated minutes (the limiter runs on the scaled clock)",
        "wall_s": wall,
        "limit_bound_wall_s": limit_wall,
        "throughput_ratio": limit_wall / wall if wall > 0 else None,
        "tokens": tokens,
        "requests": requests,
        "tokens_per_simulated_minute": tokens / (wall / time_scale) * 60 if wall > 0 else None,
        "limiter_waited_simulated_s": limiter.waited_s,
        "errors_429": counter.errors_429,
        "all_done": all(r["status"] == "done" for r in runs),
        "peak_memory_mb_per_pipeline": peak / features / 1e6,
        "memory_method": "tracemalloc peak of Python allocations during the concurrent run / N",
    }


def pipeline_benchmark(
    time_scale: float = DEFAULT_TIME_SCALE, features: int = 4, *, with_cost: bool = True
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "time_scale": time_scale,
        "tier_speeds": {tier: {"ttft_s": s.ttft_s, "tokens_per_s": s.tokens_per_s} for tier, s in TIER_SPEEDS.items()},
        "agent_seconds": dict(AGENT_SECONDS),
    }
    with tempfile.TemporaryDirectory(prefix="autodev-bench-pipeline-") as tmp:
        workdir = Path(tmp)
        # Warm-up, not reported: the first run in a process pays one-off costs (imports, the retrieval
        # index's first build, ~1 s) that would otherwise inflate whichever run came first.
        run_one(CASES["docs"], workdir, time_scale / 20)
        result["speed"] = speed_section(workdir, time_scale)
        feature = result["speed"]["parallel"]
        result["fast_paths"] = fast_path_section(workdir, time_scale, feature)
        if with_cost:
            from autodev.apps.bench.cost import cost_benchmark

            result["cost"] = cost_benchmark()
        if features > 0:
            result["scale"] = scale_section(workdir, time_scale, features, feature)
    return result
