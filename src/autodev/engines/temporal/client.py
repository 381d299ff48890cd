"""The client side: start a batch's features as workflows, bring results home, show status.

`run_batch_on_temporal` validates each feature on this machine first (`prepare`, as a local run
does), puts its base commit and request on the feature's remote, starts `FeatureWorkflow`
(id `autodev-<run_id>`) and waits, at most `features_at_once` features in flight. When a feature
ends, its branch and artifacts come back into the user's repository: `autodev/<run_id>` with one
commit (as a local run leaves it) and `.autodev/runs/<run_id>/` with state.json, metrics.jsonl and
the sessions, so `autodev report` works on it as on any run. If this process stops, the features
go on running on Temporal; `autodev status` shows them.

`temporalio` is imported inside the functions: this module is importable without the extra, and
says how to install it when it is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodev.config.settings import CliOverrides
from autodev.core import gitops
from autodev.core.errors import AutodevError, RunInterrupted, UserError
from autodev.engines.batch_file import Feature, FeatureResult
from autodev.engines.local.batch import BatchRecord, feature_result
from autodev.engines.temporal import EXIT_SETTLE_S, require_temporal
from autodev.engines.temporal.connection import connect
from autodev.engines.temporal.homecoming import bring_home
from autodev.engines.temporal.settings import TemporalSettings, temporal_settings
from autodev.run.layout import RunPaths, load_state, new_run_id
from autodev.run.plan import RunPlan, prepare
from autodev.run.selection.overrides import SelectionOverrides

if TYPE_CHECKING:
    from temporalio.client import Client

    from autodev.engines.temporal.messages import FeatureOutcome


# ----------------------------------------------------------------------------- batch
@dataclass
class _Planned:
    index: int
    feature: Feature
    plan: RunPlan
    settings: TemporalSettings
    known: str | None = None  # the run this feature got when the same batch file ran before

    @property
    def remote(self) -> str:
        return self.settings.remote or str(self.plan.repo)


def run_batch_on_temporal(
    features: list[Feature],
    cli: CliOverrides,
    *,
    address: str | None,
    namespace: str | None,
    task_queue: str | None,
    features_at_once: int,
    reporter: Callable[[str], None],
    selection: SelectionOverrides | None = None,
    batch_file: Path | None = None,
    repo: Path | None = None,
) -> list[FeatureResult]:
    """Run `features` on Temporal; one result per feature, in order. Settings from each repository's
    `[temporal]` fill in what the arguments leave as None (the first feature's for the connection).

    With `batch_file` (and `repo`, where the record lives; default the first feature's), the runs are
    recorded as the local engine records them: running the same file again reports the features that
    finished, and waits for (and collects) those still running on Temporal instead of starting them again.
    """
    require_temporal()
    record = BatchRecord.for_file(repo or features[0].repo, batch_file) if batch_file and features else None
    results: list[FeatureResult | None] = [None] * len(features)
    planned: list[_Planned] = []
    for index, feature in enumerate(features):
        known = record.runs.get(feature.id) if record is not None else None
        finished = _finished(feature, known)
        if finished is not None:
            results[index] = finished
            reporter(f"{feature.id}: already done in run {known}")
            continue
        try:
            plan = prepare(feature.request, feature.repo, cli, selection=selection)
            if plan.settings.max_cost_usd is not None:  # each activity sees one step, never the run's spending
                raise UserError(
                    "max_cost_usd is enforced by the local engine only",
                    hint="run this batch without --engine temporal, or without a cost cap",
                )
        except AutodevError as exc:
            results[index] = _error(feature, exc)
            reporter(f"{feature.id}: not started: {exc.message}")
            continue
        shared = temporal_settings(plan.settings, address=address, namespace=namespace, task_queue=task_queue)
        planned.append(_Planned(index, feature, plan, shared, known))
    if planned:
        first = planned[0].settings
        try:
            done = asyncio.run(_batch(planned, first, max(1, features_at_once), reporter, record))
        except KeyboardInterrupt:
            again = "run the same autodev batch command again to collect them" if record else "`autodev status`"
            raise RunInterrupted(
                "interrupted: the features that started keep running on Temporal",
                hint=f"{again}; `autodev status --engine temporal` shows where they are",
            ) from None
        for item, result in zip(planned, done, strict=True):
            results[item.index] = result
    return [result for result in results if result is not None]


def _finished(feature: Feature, run_id: str | None) -> FeatureResult | None:
    if run_id is None:
        return None
    run_dir = RunPaths.for_run(feature.repo, run_id).run_dir
    if not (run_dir / "state.json").is_file():
        return None
    state = load_state(run_dir)
    return feature_result(feature, state, run_dir, 0.0) if state.status == "done" else None


def _error(feature: Feature, exc: AutodevError) -> FeatureResult:
    return FeatureResult(feature.id, feature.request, str(feature.repo), "error", error=exc.message)


async def _batch(
    planned: list[_Planned],
    first: TemporalSettings,
    at_once: int,
    reporter: Callable[[str], None],
    record: BatchRecord | None,
) -> list[FeatureResult]:
    client = await connect(first.address, first.namespace)
    slots = asyncio.Semaphore(at_once)

    async def one(item: _Planned) -> FeatureResult:
        async with slots:
            try:
                return await _run_one(client, item, first, reporter, record)
            except AutodevError as exc:
                reporter(f"{item.feature.id}: {exc.message}")
                return _error(item.feature, exc)

    try:
        return list(await asyncio.gather(*(one(item) for item in planned)))
    finally:
        await asyncio.sleep(EXIT_SETTLE_S)  # let the SDK's last callbacks land before the loop closes


async def _attach(client: Client, item: _Planned) -> Any:
    """The workflow of this feature's earlier run, if it is still there and was not brought home yet."""
    from temporalio.service import RPCError, RPCStatusCode

    from autodev.engines.temporal.messages import FeatureOutcome
    from autodev.engines.temporal.workflows import workflow_id

    if item.known is None or RunPaths.for_run(item.plan.repo, item.known).state_file.is_file():
        return None  # never started, or finished and brought home (failed: it starts again)
    handle = client.get_workflow_handle(workflow_id(item.known), result_type=FeatureOutcome)
    try:
        await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return handle


async def _run_one(
    client: Client,
    item: _Planned,
    first: TemporalSettings,
    reporter: Callable[[str], None],
    record: BatchRecord | None,
) -> FeatureResult:
    from temporalio.client import WorkflowFailureError

    from autodev.engines.temporal import transport
    from autodev.engines.temporal.messages import FeatureInput
    from autodev.engines.temporal.workflows import FeatureWorkflow, workflow_id

    feature, plan, remote = item.feature, item.plan, item.remote
    started = time.perf_counter()
    watch = await asyncio.to_thread(gitops.GitFingerprint.of, plan.repo)  # compared when it comes home
    handle = await _attach(client, item)
    if handle is not None:
        run_id = item.known or ""
        reporter(f"{feature.id}: waiting for run {run_id}, started by an earlier batch (workflow {handle.id})")
    else:
        run_id = new_run_id()
        try:
            request = await asyncio.to_thread(
                transport.start_run, plan.repo, remote, run_id, plan.base_commit, plan.request
            )
        except gitops.GitError as exc:
            hint = "[temporal] remote must be a git URL or path every worker can reach"
            raise UserError(str(exc), hint=hint) from None
        title = plan.request.splitlines()[0][:200]
        inp = FeatureInput(
            run_id=run_id,
            feature_id=feature.id,
            title=title,
            request=request,
            remote=remote,
            base=plan.base_commit,
            options=plan.options(),
            repo=str(plan.repo),
            heartbeat_timeout_s=item.settings.heartbeat_timeout_s,
        )
        handle = await client.start_workflow(
            FeatureWorkflow.run,
            inp,
            id=workflow_id(run_id),
            task_queue=first.task_queue,
            static_summary=f"{feature.id}: {title}",
            static_details=f"autodev run {run_id} of {plan.repo} (remote {remote})",
        )
        if record is not None:
            await asyncio.to_thread(record.remember, feature.id, run_id)
        reporter(f"{feature.id}: started run {run_id} (workflow {handle.id}, task queue {first.task_queue})")
    try:
        outcome: FeatureOutcome = await handle.result()
    except WorkflowFailureError as exc:
        raise UserError(f"run {run_id} ended abnormally on Temporal: {exc.cause or exc}") from None
    duration = time.perf_counter() - started
    state = await asyncio.to_thread(bring_home, plan, remote, outcome, watch)
    cost = "n/a" if outcome.cost_usd is None else f"${outcome.cost_usd:.4f}"
    what = f"{outcome.files} files +{outcome.insertions} -{outcome.deletions}" if outcome.commit else "no change"
    error = outcome.error
    if state.error != outcome.error:  # not brought home: the repository's git config or hooks changed
        what, error = "not fetched", state.error
    reason = f": {error.splitlines()[0]}" if error else ""
    reporter(f"{feature.id}: {state.status} in {duration:.1f}s, branch {outcome.branch} ({what}), {cost}{reason}")
    return feature_result(feature, state, RunPaths.for_run(plan.repo, run_id).run_dir, duration)


__all__ = ["connect", "run_batch_on_temporal", "temporal_status"]

from autodev.engines.temporal.status import temporal_status  # noqa: E402  (its home; imported here for callers)
