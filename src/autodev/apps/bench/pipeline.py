"""`autodev bench pipeline`: speed, fast paths, cost and scale of the real orchestrator.

Everything but the model's timing is real: the demo project in a fresh git repository, the
scheduler, runtime, tools, state, metrics and the project's test suite. Replies come from scripts
(the demo's for the feature; small bundled ones for the docs, typo and config requests) and take
simulated time (`autodev.models.fakes.simulated`), scaled by `time_scale`. All times reported are measured
real seconds at that scale; divide by `time_scale` for the unscaled equivalent.

Definitions:
- bound: the critical path of the run's pipeline over the agents' own measured durations
  (`profiler.report.critical_path`) plus the serial steps between phases (test gate, analysers),
  which nothing can overlap. efficiency = bound / wall.
- phase speedup: the span of the research agents (first start to last end), and of the validation
  agents, run sequentially, over the same span run in parallel.
- overhead per agent: (wall - the time during which a model call, the test gate or the analysers
  were in progress, as a union of intervals) / agents run: wall time not spent waiting on a model or
  the tests. It includes tool execution (real, milliseconds) and orchestration.
- fast paths use the same per-agent latency profile as the feature, so their saving is exactly what
  the agents selection skips (and the gate it skips) buys, not shorter replies.
- scale: N pipelines at once through one `ProviderLimiter` (requests and tokens per minute, on the
  simulated clock); the limit-bound wall is max(one pipeline's bound, (tokens - T) / T minutes,
  (requests - R) / R minutes), the bucket starting full with one minute's budget; throughput
  ratio = limit-bound wall / measured wall. Memory: tracemalloc peak during the scale run / N.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from autodev.apps.demo import DEMO_IDENTITY, DEMO_REQUEST, DEMO_TIER_MODELS, demo_dir, make_demo_repo
from autodev.config.providers import ResilientProvider, limiter_for
from autodev.config.settings import CliOverrides
from autodev.core import gitops
from autodev.core.records import CallRecord, MetricRecord, TimerRecord, of_kind
from autodev.models import (
    Model,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ModelWrapper,
    ProviderError,
    ProviderWrapper,
)
from autodev.models.fakes.scripted import Script, ScriptedProvider
from autodev.models.fakes.simulated import AGENT_SECONDS, TIER_SPEEDS, LatencyLog, SimulatedLatencyProvider
from autodev.models.pricing import total_cost
from autodev.models.resilience import ProviderLimiter, RetryPolicy
from autodev.run.orchestrator import Orchestrator
from autodev.run.plan import prepare
from autodev.run.report import agent_rows, critical_path

DEFAULT_TIME_SCALE = 0.02
RESEARCH = ("researcher-local", "researcher-web")
VALIDATION = ("reviewer", "security-auditor", "doc-master")


def _reply(text: str, output_tokens: int = 120) -> dict[str, Any]:
    return {"text": text, "usage": {"input_tokens": 3000, "output_tokens": output_tokens}}


def _edit(text: str, path: str, old: str, new: str) -> dict[str, Any]:
    call = {"name": "Edit", "input": {"file_path": path, "old_string": old, "new_string": new}}
    return {"text": text, "tool_calls": [call], "usage": {"input_tokens": 3000, "output_tokens": 80}}


APPROVE = "## Review\nThe change does what was asked and nothing else.\nVERDICT: APPROVE\nNo blocking findings."
TYPO = ("whitespace-separated", "whitespace-seperated")


def _fast_script(implementer_call: dict[str, Any], what: str) -> Script:
    return Script.model_validate(
        {
            "web_search": True,
            "agents": {
                "researcher-local": [_reply(f"## Local findings\n{what} lives at the project root.")],
                "researcher-web": [_reply("## External notes\nNothing external is needed.")],
                "planner": [_reply(f"## Plan\n1. {what}.\nAcceptance: only that file changes.")],
                "test-master": [_reply("## Tests\nNo test change is needed.")],
                "implementer": [implementer_call, _reply(f"## Implementation done\n{what}.")],
                "reviewer": [_reply(APPROVE)],
                "security-auditor": [_reply(APPROVE.replace("Review", "Security audit"))],
                "doc-master": [_reply("## Docs updated\nNothing else to document.")],
            },
        }
    )


@dataclass(frozen=True)
class Case:
    label: str
    request: str
    script: Callable[[], Script]
    setup: Callable[[Path], None] = lambda repo: None


def _feature_script() -> Script:
    return Script.load(demo_dir() / "script.yaml")


def _add_typo(repo: Path) -> None:
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace(*TYPO), encoding="utf-8")
    gitops.git([*DEMO_IDENTITY, "commit", "--quiet", "-am", "README: a typo"], repo)


CASES: dict[str, Case] = {
    "feature": Case("feature", DEMO_REQUEST, _feature_script),
    "docs": Case(
        "docs",
        "Reword the introduction of README.md to say that textkit needs nothing beyond the standard library",
        lambda: _fast_script(
            _edit(
                "Rewording the introduction.",
                "README.md",
                "using only the standard library.",
                "needing nothing beyond the standard library.",
            ),
            "README.md: the introduction is reworded",
        ),
    ),
    "typo": Case(
        "typo",
        "Fix the typo 'seperated' in README.md",
        lambda: _fast_script(
            _edit("Fixing the spelling.", "README.md", TYPO[1], TYPO[0]),
            "README.md: 'seperated' becomes 'separated'",
        ),
        _add_typo,
    ),
    "config": Case(
        "config",
        "Add an .editorconfig that sets 4-space indentation for Python files",
        lambda: _fast_script(
            {
                "text": "Writing the .editorconfig.",
                "tool_calls": [
                    {
                        "name": "Write",
                        "input": {
                            "file_path": ".editorconfig",
                            "content": "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n",
                        },
                    }
                ],
                "usage": {"input_tokens": 3000, "output_tokens": 60},
            },
            ".editorconfig sets 4-space indentation for Python files",
        ),
    ),
}


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
    orchestrator: Orchestrator
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
    orchestrator = Orchestrator(plan, provider, run_id=run_id)
    orchestrator.setup()
    return Prepared(case, orchestrator, simulated.log)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _span(records: list[MetricRecord], names: tuple[str, ...]) -> float:
    rows = [row for row in agent_rows(records) if row.agent in names and row.runs]
    starts = [t for row in rows if (t := _time(row.started_at))]
    ends = [t for row in rows if (t := _time(row.ended_at))]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def _busy(records: list[MetricRecord]) -> float:
    """Seconds during which a model call, the test gate or the analysers were in progress (their union)."""
    intervals: list[tuple[float, float]] = []
    for r in records:
        if isinstance(r, CallRecord) or (isinstance(r, TimerRecord) and r.name in ("test_gate", "analysers")):
            started = datetime.fromisoformat(r.started_at)
            intervals.append((started.timestamp(), started.timestamp() + r.duration_s))
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def figures(prepared: Prepared, wall: float) -> dict[str, Any]:
    orchestrator = prepared.orchestrator
    state = orchestrator.store.state
    records = orchestrator.metrics.written
    pipeline = orchestrator.plan.pipeline
    rows = [row for row in agent_rows(records) if row.runs]
    durations = {row.agent: row.duration_s for row in rows}
    needs = {node.agent: node.needs for node in pipeline.nodes}
    path, path_s = critical_path(needs, durations)
    timers: dict[str, float] = {}
    for timer in of_kind(records, TimerRecord):
        timers[timer.name] = timers.get(timer.name, 0.0) + timer.duration_s
    # The gate and analysers between phases; a test run an agent asked for (RunTests) is inside its span.
    spans = [(a, b) for row in rows if (a := _time(row.started_at)) and (b := _time(row.ended_at))]
    serial = sum(
        r.duration_s
        for r in of_kind(records, TimerRecord)
        if r.name in ("test_gate", "analysers") and not any(a <= t <= b for a, b in spans if (t := _time(r.started_at)))
    )
    calls = of_kind(records, CallRecord)
    model_s: dict[str, float] = {}
    for call in calls:
        model_s[call.agent] = model_s.get(call.agent, 0.0) + call.duration_s
    bound = path_s + serial
    costs = [c.cost_usd for c in calls if c.status == "ok"]
    return {
        "status": state.status,
        "error": state.error,
        "wall_s": wall,
        "bound_s": bound,
        "critical_path": path,
        "critical_path_agents_s": path_s,
        "serial_steps_s": serial,
        "efficiency": bound / wall if wall > 0 else None,
        "agent_seconds_sum": sum(durations.values()),
        "agents_run": len(rows),
        "agents_skipped": sorted(name for name, agent in state.agents.items() if agent.status == "skipped"),
        "request_class": orchestrator.plan.selection.change_type,
        "research_span_s": _span(records, RESEARCH),
        "validation_span_s": _span(records, VALIDATION),
        "overhead_per_agent_s": (wall - _busy(records)) / len(rows) if rows else None,
        "model_seconds": model_s,
        "model_calls": len(calls),
        "model_call_errors_429": 0,
        "input_tokens": sum(c.input_tokens for c in calls),
        "output_tokens": sum(c.output_tokens for c in calls),
        "cost_usd": total_cost(*costs),
        "timers": timers,
    }


def run_one(case: Case, workdir: Path, time_scale: float, max_parallel: int | None = None) -> dict[str, Any]:
    prepared = _prepare(case, workdir, time_scale, max_parallel)
    started = time.perf_counter()
    anyio.run(prepared.orchestrator.run)
    return figures(prepared, time.perf_counter() - started)


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
    for label in ("docs", "typo", "config"):
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
    runs = [figures(item, wall) for item in prepared]
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


def _f(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def render(result: dict[str, Any]) -> list[str]:
    """The readable table: real seconds at the time scale, with the unscaled equivalent."""
    scale = result["time_scale"]
    speed = result["speed"]
    lines = [
        f"autodev bench pipeline: demo project, time scale {scale:g} (seconds below are real; / {scale:g} = unscaled)",
        "",
        "Speed (feature request, full pipeline)",
        f"  {'run':<12} {'wall s':>8} {'bound s':>8} {'efficiency':>10} {'overhead/agent s':>17} "
        f"{'unscaled wall s':>16}",
    ]
    for label in ("sequential", "parallel"):
        run = speed[label]
        lines.append(
            f"  {label:<12} {run['wall_s']:>8.2f} {run['bound_s']:>8.2f} {_f(run['efficiency']):>10} "
            f"{_f(run['overhead_per_agent_s'], '.3f'):>17} {run['wall_s'] / scale:>16.0f}"
        )
    par = speed["parallel"]
    lines += [
        f"  critical path: {' -> '.join(par['critical_path'])} + test gate and analysers",
        f"  speedup {_f(speed['speedup'])}x; research phase {_f(speed['research_speedup'])}x, "
        f"validation phase {_f(speed['validation_speedup'])}x (sequential span / parallel span)",
        "",
        "Fast paths (same per-agent latency profile; savings come from skipped agents and gate)",
        f"  {'request':<9} {'class':<8} {'agents':>6} {'wall s':>8} {'x feature':>9} {'cost $':>8} {'x feature':>9}",
        f"  {'feature':<9} {par['request_class']:<8} {par['agents_run']:>6} {par['wall_s']:>8.2f} {1.0:>9.2f} "
        f"{_f(par['cost_usd'], '.4f'):>8} {1.0:>9.2f}",
    ]
    for label, run in result["fast_paths"].items():
        lines.append(
            f"  {label:<9} {run['request_class']:<8} {run['agents_run']:>6} {run['wall_s']:>8.2f} "
            f"{_f(run['time_ratio_to_feature']):>9} {_f(run['cost_usd'], '.4f'):>8} "
            f"{_f(run['cost_ratio_to_feature']):>9}"
        )
    if "cost" in result:
        cost = result["cost"]
        usd, ratio = cost["usd"], cost["ratio_to_all_deep"]
        lines += ["", f"Cost (demo pipeline tokens, prices read {cost['prices_read_on']}; bench cost)"]
        for key in ("all_deep", "tiered", "tiered_cached"):
            lines.append(f"  {key:<14} ${usd[key]:.4f}   {ratio[key]:.2f} x all-deep")
    if "scale" in result:
        sc = result["scale"]
        lines += [
            "",
            f"Scale ({sc['features']} feature pipelines at once, one limiter: {sc['requests_per_minute']} req/min, "
            f"{sc['tokens_per_minute']:,} tokens/min simulated)",
            f"  wall {sc['wall_s']:.2f} s, limit-bound wall {sc['limit_bound_wall_s']:.2f} s, "
            f"throughput {_f(sc['throughput_ratio'])} of the limit-bound; 429s {sc['errors_429']}; "
            f"all done: {sc['all_done']}",
            f"  peak memory {sc['peak_memory_mb_per_pipeline']:.1f} MB per pipeline ({sc['memory_method']})",
        ]
    return lines
