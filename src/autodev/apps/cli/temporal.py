"""`autodev worker`: the Temporal-only command. `temporalio` is imported only when it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err, out


@click.command()
@click.option(
    "--address", default=None, metavar="HOST:PORT", help="Temporal frontend (default: config, then localhost:7233)."
)
@click.option("--namespace", default=None, help="Temporal namespace (default: config, then 'default').")
@click.option("--task-queue", default=None, help="Task queue to poll (default: config, then 'autodev').")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where this worker keeps its mirror clones and task worktrees (default ~/.cache/autodev/worker).",
)
@click.option("--max-activities", type=click.IntRange(min=1), default=4, show_default=True, help="Agent runs at once.")
@click.option(
    "--repo",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="A repository whose [temporal] config to use for the defaults.",
)
def worker(
    address: str | None,
    namespace: str | None,
    task_queue: str | None,
    workdir: Path | None,
    max_activities: int,
    repo: Path,
) -> None:
    """Run a Temporal worker: features' workflows and agents' activities, from any machine.

    Start as many as you like, anywhere that reaches the Temporal server and the features' git remote.
    Ctrl-C (or SIGTERM) stops it; an agent it was running is picked up by another worker.
    """
    from autodev.engines.temporal import require_temporal

    require_temporal()
    from autodev.engines.temporal.activities import worker_identity
    from autodev.engines.temporal.client import connect
    from autodev.engines.temporal.settings import settings_for, temporal_settings
    from autodev.engines.temporal.worker import build_worker, default_workdir, serve

    shared = temporal_settings(settings_for(repo), address=address, namespace=namespace, task_queue=task_queue)
    where = (workdir or default_workdir()).resolve()

    async def run() -> None:
        client = await connect(shared.address, shared.namespace)
        identity = worker_identity()
        built = build_worker(
            client, task_queue=shared.task_queue, workdir=where, max_activities=max_activities, identity=identity
        )

        def ready() -> None:
            out.print(
                f"[bold]autodev worker[/] {esc(identity)}: polling task queue "
                f"{esc(shared.task_queue)!r} at {esc(shared.address)} (namespace {esc(shared.namespace)}), "
                f"up to {max_activities} agent runs at once; workdir {esc(str(where))}. Ctrl-C stops it."
            )

        await serve(built, on_ready=ready)
        await asyncio.sleep(0.1)

    asyncio.run(run())
    err.print("autodev worker: stopped")
