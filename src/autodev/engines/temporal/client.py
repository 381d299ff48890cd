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
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodev.config.settings import CliOverrides
from autodev.core import gitops
from autodev.core.errors import AutodevError, RunInterrupted, UserError
from autodev.core.jsonio import write_json_atomic
from autodev.core.locks import repo_lock
from autodev.core.redact import redact_data
from autodev.engines.batch_file import Feature, FeatureResult
from autodev.engines.local.batch import BatchRecord, feature_result
from autodev.engines.temporal import EXIT_SETTLE_S, require_temporal
from autodev.engines.temporal.settings import TemporalSettings, settings_for, temporal_settings
from autodev.run.layout import load_state
from autodev.run.orchestrator import RunPaths, new_run_id
from autodev.run.plan import RunPlan, prepare
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.state import AgentState, RunState

if TYPE_CHECKING:
    from temporalio.client import Client

    from autodev.engines.temporal.messages import FeatureOutcome

QUERY_TIMEOUT = timedelta(seconds=5)
LIST_LIMIT = 50
SERVER_HINT = (
    "start one with `temporal server start-dev` (it comes with autonomous-dev[temporal]), or point at yours "
    "with --address HOST:PORT or [temporal] address = ... in .autodev/config.toml"
)


async def connect(address: str, namespace: str) -> Client:
    """A client for `address`, with the namespace checked: errors say what to do, not what gRPC said."""
    require_temporal()
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client
    from temporalio.service import RPCError, RPCStatusCode

    try:
        client = await Client.connect(address, namespace=namespace)
    except RuntimeError as exc:
        reason = str(exc).split("(", 1)[0].strip() or str(exc)
        raise UserError(f"cannot reach Temporal at {address}: {reason}", hint=SERVER_HINT) from None
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=QUERY_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UserError(
                f"Temporal at {address} has no namespace {namespace!r}",
                hint=f"create it with `temporal operator namespace create {namespace}`, or pass --namespace",
            ) from None
        raise UserError(f"Temporal at {address} refused the connection: {exc.message}", hint=SERVER_HINT) from None
    return client


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
    state = await asyncio.to_thread(_bring_home, plan, remote, outcome)
    cost = "n/a" if outcome.cost_usd is None else f"${outcome.cost_usd:.4f}"
    what = f"{outcome.files} files +{outcome.insertions} -{outcome.deletions}" if outcome.commit else "no change"
    reason = f": {outcome.error.splitlines()[0]}" if outcome.error else ""
    reporter(f"{feature.id}: {outcome.status} in {duration:.1f}s, branch {outcome.branch} ({what}), {cost}{reason}")
    return feature_result(feature, state, RunPaths.for_run(plan.repo, run_id).run_dir, duration)


def _bring_home(plan: RunPlan, remote: str, outcome: FeatureOutcome) -> RunState:
    """The run's branch and artifacts into the user's repository, as a local run leaves them."""
    from autodev.engines.temporal import transport

    repo, run_id = plan.repo, outcome.run_id
    with repo_lock(gitops.common_dir(repo)):
        gitops.ensure_excludes(repo)
        artifacts = transport.collect_run(repo, remote, run_id)
    paths = RunPaths.for_run(repo, run_id)
    paths.sessions.mkdir(parents=True, exist_ok=True)
    prefix = transport.run_refs(run_id)

    def text(ref: Any) -> str | None:
        if ref is None:
            return None
        files = artifacts.get(ref.ref.removeprefix(prefix), {})
        data = files.get(ref.path)
        return data.decode("utf-8", "replace") if data is not None else None

    metrics: list[bytes] = []
    state = RunState(
        run_id=run_id,
        request=plan.request,
        repo=str(repo),
        worktree="",
        branch=outcome.branch,
        base_commit=outcome.base,
        status="done" if outcome.status == "done" else "failed",
    )
    for name, view in outcome.agents.items():
        session = b"".join(artifacts.get(ref.removeprefix(prefix), {}).get("session.md", b"") for ref in view.artifacts)
        session_file = None
        if session:
            session_file = paths.sessions / f"{name}.md"
            session_file.write_bytes(session)
        for ref in view.artifacts:
            metrics.append(artifacts.get(ref.removeprefix(prefix), {}).get("metrics.jsonl", b""))
        state.agents[name] = AgentState(
            status=view.status,  # type: ignore[arg-type]
            reason=view.reason,
            tier=view.tier,
            model=view.model,
            started_at=view.started_at,
            ended_at=view.ended_at,
            handoff=text(view.handoff),
            session_file=str(session_file) if session_file else None,
            error=view.error,
            runs=view.runs,
            ended_runs=view.ended_runs,
            checkpoint=view.checkpoint,
        )
    for key, files in sorted(artifacts.items()):
        if key.startswith("gate/"):
            metrics.append(files.get("metrics.jsonl", b""))
    state.change_type = outcome.change_type or state.change_type
    state.gate = outcome.gate
    state.commit = outcome.commit
    if outcome.commit:
        summary = gitops.diff_summary(repo, outcome.base, outcome.commit)
        state.diff = {
            "files": summary.files,
            "insertions": summary.insertions,
            "deletions": summary.deletions,
            "stat": summary.stat,
        }
    state.cost_usd = outcome.cost_usd
    state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
    state.handoff_budget = outcome.handoff_budget
    state.warnings = list(outcome.warnings)
    state.error = outcome.error
    state.progress = {"step": "finish", "cycle": 0, "engine": "temporal", "workflow_id": f"autodev-{run_id}"}
    state.checkpoints = outcome.checkpoints
    state.checkpoint = outcome.tip if outcome.tip != outcome.base else None
    state.options = dict(outcome.options)
    state.strikes = outcome.strikes
    state.created_at, state.updated_at = outcome.started_at, outcome.ended_at
    write_json_atomic(paths.state_file, redact_data(state.to_json()))
    lines = b"".join(chunk if chunk.endswith(b"\n") or not chunk else chunk + b"\n" for chunk in metrics)
    paths.metrics_file.write_bytes(lines)
    if lines:
        paths.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with paths.cache_file.open("ab") as handle:
            handle.write(lines)
    return state


# ----------------------------------------------------------------------------- status
def temporal_status(
    run_id: str | None, *, address: str | None, namespace: str | None, repo: Path | None = None
) -> list[dict[str, Any]]:
    """Each feature's stage and each agent's state, from the workflows themselves (a query).

    Without a run id: the most recent feature workflows on the server. `repo` (default: the current
    directory) supplies `[temporal]` settings for what the arguments leave as None.
    """
    require_temporal()
    shared = temporal_settings(settings_for(repo or Path.cwd()), address=address, namespace=namespace)
    return asyncio.run(_status(shared, run_id))


async def _status(shared: TemporalSettings, run_id: str | None) -> list[dict[str, Any]]:
    from autodev.engines.temporal.workflows import FEATURE_WORKFLOW, workflow_id

    client = await connect(shared.address, shared.namespace)
    try:
        if run_id is not None:
            ids = [workflow_id(run_id)]
        else:
            query = f'WorkflowType = "{FEATURE_WORKFLOW}"'
            ids = [execution.id async for execution in client.list_workflows(query, limit=LIST_LIMIT)]
        rows = await asyncio.gather(*(_one_status(client, wid, shared) for wid in ids))
        return list(rows)
    finally:
        await asyncio.sleep(EXIT_SETTLE_S)


async def _one_status(client: Client, wid: str, shared: TemporalSettings) -> dict[str, Any]:
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    from autodev.engines.temporal.messages import FeatureOutcome

    run_id = wid.removeprefix("autodev-")
    handle = client.get_workflow_handle(wid, result_type=FeatureOutcome)
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UserError(
                f"no run {run_id} on Temporal at {shared.address} (namespace {shared.namespace})",
                hint="`autodev status` with no run id lists the runs there",
            ) from None
        raise
    row: dict[str, Any] = {
        "run_id": run_id,
        "request": await described.static_summary(),
        "stage": "unknown",
        "status": (described.status.name.lower() if described.status else "unknown"),
        "agents": {},
        "workflow_id": wid,
        "engine": "temporal",
    }
    if described.status == WorkflowExecutionStatus.COMPLETED:
        outcome = await handle.result()
        row.update(
            request=outcome.request,
            stage=outcome.status,
            status=outcome.status,
            agents={name: view.status for name, view in outcome.agents.items()},
            error=outcome.error,
            branch=outcome.branch,
            commit=outcome.commit,
            cost_usd=outcome.cost_usd,
        )
        return row
    try:
        queried = await handle.query("status", rpc_timeout=QUERY_TIMEOUT)
    except Exception as exc:  # no worker to answer (all stopped), or a server-side timeout
        row["stage"] = f"unknown: no worker answered the status query ({type(exc).__name__})"
        return row
    if isinstance(queried, dict):
        status = row["status"]
        row.update({key: value for key, value in queried.items() if value is not None})
        if status != "running":  # terminated, cancelled, timed out: what Temporal says wins
            row["status"] = status
    return row
