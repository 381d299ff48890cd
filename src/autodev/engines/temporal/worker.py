"""`autodev worker`: poll a task queue and run features' workflows and agents' activities.

Any number of workers on any number of machines may poll the same queue; each needs the remote of
the features it serves (git) and, for real providers, the API keys in its environment. A worker
runs both kinds of task: workflow tasks (cheap, deterministic decisions) and activities (agents, the
test gate), at most `max_activities` at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from autodev.engines.temporal import transport
from autodev.engines.temporal.activities import FeatureActivities, ProviderFactory, default_provider, worker_identity
from autodev.engines.temporal.workflows import FeatureWorkflow, RateLimiterWorkflow

DEFAULT_MAX_ACTIVITIES = 4
GRACEFUL_SHUTDOWN = timedelta(seconds=5)


def default_workdir() -> Path:
    return Path.home() / ".cache" / "autodev" / "worker"


def build_worker(
    client: Client,
    *,
    task_queue: str,
    workdir: Path,
    max_activities: int = DEFAULT_MAX_ACTIVITIES,
    provider_factory: ProviderFactory = default_provider,
    identity: str | None = None,
    sticky_timeout: timedelta | None = None,
) -> Worker:
    workdir.mkdir(parents=True, exist_ok=True)
    transport.clean_stale(workdir)
    activities = FeatureActivities(
        workdir,
        client=client,
        task_queue=task_queue,
        provider_factory=provider_factory,
        identity=identity or worker_identity(),
    )
    # autodev's modules are deterministic where workflows use them (pure functions and dataclasses):
    # pass them through instead of re-importing them into every workflow's sandbox.
    runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("autodev"))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[FeatureWorkflow, RateLimiterWorkflow],
        activities=activities.all(),
        workflow_runner=runner,
        max_concurrent_activities=max_activities,
        identity=activities.identity,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        sticky_queue_schedule_to_start_timeout=sticky_timeout or timedelta(seconds=10),
    )


async def serve(worker: Worker, *, on_ready: Callable[[], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM, then stop polling and let running activities finish (briefly).

    An activity still running when the grace period ends is cancelled; Temporal then runs it again
    on another worker from the workflow's last checkpoint, so stopping a worker never loses work
    that finished.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    try:
        async with worker:
            if on_ready is not None:
                on_ready()
            await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
