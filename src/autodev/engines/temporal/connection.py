"""Connecting to Temporal: errors that say what to do, not what gRPC said."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from autodev.core.errors import UserError
from autodev.engines.temporal import require_temporal

if TYPE_CHECKING:
    from temporalio.client import Client

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
