"""`autodev status --engine temporal`: where each feature's workflow is, asked of the workflows themselves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodev.core.errors import UserError
from autodev.engines.temporal import EXIT_SETTLE_S, require_temporal
from autodev.engines.temporal.connection import QUERY_TIMEOUT, connect
from autodev.engines.temporal.settings import TemporalSettings, settings_for, temporal_settings

if TYPE_CHECKING:
    from temporalio.client import Client

LIST_LIMIT = 50


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
