"""The local batch engine: many feature runs in one process, at most N at a time, one provider limiter.

Each feature is an ordinary run (its own worktree, branch, state.json and metrics), driven by the
same LocalRun as `autodev run`, so everything a single run guarantees holds per feature. What
the batch adds is sharing: one `ProviderLimiter` for every model call of every feature (so the batch
as a whole keeps to `max_concurrent_requests`, `requests_per_minute` and `tokens_per_minute`), and a
record of which run serves which feature, so running the same batch file again resumes the features
that did not finish and reports the ones that did, instead of paying for them twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import anyio

from autodev.config.providers import ResilientProvider, build_provider, limiter_for
from autodev.config.settings import CliOverrides, load_settings
from autodev.core.errors import AutodevError, RunInterrupted
from autodev.core.jsonio import write_json_atomic
from autodev.core.records import AgentRecord, of_kind, read_metrics
from autodev.engines.batch_file import Feature, FeatureResult
from autodev.engines.local.launch import resume_plan, skip_replayed
from autodev.engines.local.run import LocalRun
from autodev.models import ModelProvider
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.resilience import RetryPolicy
from autodev.run.layout import load_state
from autodev.run.plan import prepare
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.state import RunState

Say = Callable[[str], None]


@dataclass
class BatchRecord:
    """feature id -> run id, kept in `<repo>/.autodev/cache/batches/<key>.json` (the key hashes the batch file)."""

    path: Path
    runs: dict[str, str] = field(default_factory=dict)
    _writing: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def for_file(cls, repo: Path, batch_file: Path) -> BatchRecord:
        key = hashlib.sha1(f"{batch_file.resolve()}\0{batch_file.read_bytes().hex()}".encode()).hexdigest()[:12]
        path = repo / ".autodev" / "cache" / "batches" / f"{key}.json"
        runs = json.loads(path.read_text(encoding="utf-8")).get("runs", {}) if path.is_file() else {}
        return cls(path, dict(runs))

    def remember(self, feature: str, run_id: str) -> None:
        """Features start at once, each remembering from a worker thread: one writer at a time, or an
        older copy of the file could be renamed over a newer one and a started feature be forgotten
        (running the batch again would start it a second time)."""
        with self._writing:
            self.runs[feature] = run_id
            write_json_atomic(self.path, {"runs": dict(self.runs)})


def feature_result(feature: Feature, state: RunState, run_dir: Path, duration_s: float) -> FeatureResult:
    result = FeatureResult(
        id=feature.id,
        request=feature.request,
        repo=str(feature.repo),
        status=state.status,
        run_id=state.run_id,
        branch=state.branch or None,
        commit=state.commit,
        duration_s=round(duration_s, 3),
        cost_usd=state.cost_usd,
        error=state.error,
    )
    for record in of_kind(read_metrics(run_dir / "metrics.jsonl"), AgentRecord):
        result.input_tokens += record.input_tokens
        result.output_tokens += record.output_tokens
        result.cache_read_tokens += record.cache_read_tokens
    return result


class LocalBatch:
    def __init__(
        self,
        features: list[Feature],
        cli: CliOverrides,
        *,
        repo: Path,
        batch_file: Path,
        features_at_once: int,
        say: Say,
        selection: SelectionOverrides | None = None,
        provider: ModelProvider | None = None,
    ) -> None:
        self.features = features
        self.cli = cli
        self.selection = selection
        self.features_at_once = features_at_once
        self.say = say
        self.record = BatchRecord.for_file(repo, batch_file)
        settings = load_settings(repo, cli)
        self.settings = settings
        self.shared = provider if provider is not None else build_provider(settings)
        self.limiter = self.shared.limiter if isinstance(self.shared, ResilientProvider) else limiter_for(settings)
        self.results: dict[str, FeatureResult] = {}

    def _provider_for(self) -> ModelProvider:
        """The shared provider. A script replays by position, so each feature gets its own queue (same limiter)."""
        inner = self.shared.inner if isinstance(self.shared, ResilientProvider) else self.shared
        if isinstance(inner, ScriptedProvider) and self.settings.script is not None:
            fresh = ScriptedProvider.from_file(self.settings.script, delay_scale=inner.delay_scale)
            return ResilientProvider(fresh, self.limiter, RetryPolicy(max_attempts=self.settings.max_attempts))
        return self.shared

    def _orchestrator(self, feature: Feature) -> LocalRun | FeatureResult:
        """Prepare (or reopen) the feature's run; a finished one is reported as it is."""
        known = self.record.runs.get(feature.id)
        provider = self._provider_for()
        if known is not None:
            run_dir = feature.repo / ".autodev" / "runs" / known
            if (run_dir / "state.json").is_file():
                state = load_state(run_dir)
                if state.status == "done":  # its time is the run's own, from its state
                    took = datetime.fromisoformat(state.updated_at) - datetime.fromisoformat(state.created_at)
                    return feature_result(feature, state, run_dir, took.total_seconds())
                plan, state = resume_plan(known, feature.repo, provider.web_search)
                skip_replayed(provider, state)
                orchestrator = LocalRun(plan, provider, resume=state, close_provider=False)
                orchestrator.setup()
                return orchestrator
        plan = prepare(
            feature.request, feature.repo, self.cli, selection=self.selection, web_search=provider.web_search
        )
        orchestrator = LocalRun(plan, provider, close_provider=False)
        orchestrator.setup()
        self.record.remember(feature.id, orchestrator.run_id)
        return orchestrator

    async def _one(self, feature: Feature, slots: anyio.CapacityLimiter) -> None:
        async with slots:
            began = time.monotonic()
            try:
                prepared = await anyio.to_thread.run_sync(self._orchestrator, feature)
            except AutodevError as exc:
                self.results[feature.id] = FeatureResult(
                    feature.id, feature.request, str(feature.repo), "error", error=exc.message
                )
                self.say(f"[{feature.id}] could not start: {exc.message}")
                return
            if isinstance(prepared, FeatureResult):
                self.results[feature.id] = prepared
                self.say(f"[{feature.id}] already done in run {prepared.run_id}")
                return
            resumed = " (resumed)" if prepared.resuming else ""
            self.say(f"[{feature.id}] run {prepared.run_id} started{resumed}: {feature.request[:60]}")
            state = await prepared.run()
            result = feature_result(feature, state, prepared.paths.run_dir, time.monotonic() - began)
            self.results[feature.id] = result
            self.say(f"[{feature.id}] run {state.run_id} {state.status} in {result.duration_s:.1f} s")

    async def run(self) -> list[FeatureResult]:
        slots = anyio.CapacityLimiter(self.features_at_once)
        try:
            async with anyio.create_task_group() as group:
                for feature in self.features:
                    group.start_soon(self._one, feature, slots, name=f"feature:{feature.id}")
        finally:
            close = getattr(self.shared, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
        return [self.results[f.id] for f in self.features if f.id in self.results]


def run_batch_local(batch: LocalBatch) -> list[FeatureResult]:
    try:
        return anyio.run(batch.run)
    except KeyboardInterrupt:
        raise RunInterrupted(
            "interrupted: the batch stopped; every run's state is saved",
            hint="run the same autodev batch command again: finished features are kept, the others resume",
        ) from None
