"""Runs a set of pipeline agents as early as their dependencies allow, at most `max_parallel` at once.

Structured concurrency: one task group per phase owns every agent task, and a `CapacityLimiter` is
the "at most N at once". An agent whose dependency failed does not start; independent siblings run
to completion and keep their results. A bug (an exception from `run_one`) cancels the whole group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence

import anyio

from autodev.run.graph import Pipeline

RunOne = Callable[[str], Awaitable[bool]]
OnBlocked = Callable[[str, str], None]


async def run_graph(
    pipeline: Pipeline,
    names: Sequence[str],
    run_one: RunOne,
    *,
    max_parallel: int,
    on_blocked: OnBlocked,
    skipped: Collection[str] = (),
) -> dict[str, bool]:
    """Run `names` (a subset of the pipeline); dependencies outside `names` count as satisfied."""
    limiter = anyio.CapacityLimiter(max_parallel)
    finished = {name: anyio.Event() for name in names}
    succeeded: dict[str, bool] = {}

    async def run_node(name: str) -> None:
        needs = [d for d in pipeline.node(name).needs if d in finished]
        for dep in needs:
            await finished[dep].wait()
        failed = [d for d in needs if not succeeded[d]]
        try:
            if failed:
                on_blocked(name, f"not run: {', '.join(failed)} did not finish")
                succeeded[name] = False
            elif name in skipped:
                succeeded[name] = True
            else:
                async with limiter:
                    succeeded[name] = await run_one(name)
        finally:
            succeeded.setdefault(name, False)
            finished[name].set()

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(run_node, name, name=f"agent:{name}")
    return succeeded
