"""Runs a set of pipeline agents as early as their dependencies allow, at most `max_parallel` at once.

Written once for both engines, so it uses plain asyncio only: an `asyncio.TaskGroup` per phase owns
every agent task and a `Semaphore` is the "at most N at once". That runs unchanged under anyio's
asyncio backend (the local engine) and inside Temporal's deterministic workflow sandbox, where
anyio's cancel scopes cannot go. It keeps the structured-concurrency guarantees: an agent whose
dependency failed does not start; independent siblings run to completion and keep their results;
a bug (an exception from `run_one`) cancels the whole group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

from autodev.run.graph import Pipeline

RunOne = Callable[[str], Awaitable[bool]]
OnBlocked = Callable[[str, str], None]


def blocked_reason(failed: Sequence[str]) -> str:
    return f"not run: {', '.join(failed)} did not finish"


def _causes(failed: Sequence[str], passed_on: Mapping[str, Sequence[str]]) -> list[str]:
    """The agents that did not finish, seen through skipped ones (which did not fail: they were not due)."""
    return list(dict.fromkeys(cause for name in failed for cause in passed_on.get(name) or (name,)))


async def run_graph(
    needs: Pipeline | Mapping[str, Sequence[str]],
    names: Sequence[str],
    run_one: RunOne,
    *,
    max_parallel: int,
    on_blocked: OnBlocked,
    skipped: Collection[str] = (),
) -> dict[str, bool]:
    """Run `names` (a subset of the pipeline); dependencies outside `names` count as satisfied.

    `needs`: the pipeline, or each agent's dependencies. `skipped`: agents that count as finished
    without running (skipped by the selection, or already done in this step).
    """
    needs_of = {node.agent: node.needs for node in needs.nodes} if isinstance(needs, Pipeline) else needs
    slots = asyncio.Semaphore(max_parallel)
    finished = {name: asyncio.Event() for name in names}
    succeeded: dict[str, bool] = {}
    unfinished_before: dict[str, list[str]] = {}  # a skipped agent -> the failed agents it passes on

    async def run_node(name: str) -> None:
        deps = [d for d in needs_of[name] if d in finished]
        try:
            for dep in deps:
                await finished[dep].wait()
            failed = [d for d in deps if not succeeded[d]]
            if name in skipped:  # stays skipped (or done) whatever failed before it, and passes a failure on
                succeeded[name] = not failed
                unfinished_before[name] = _causes(failed, unfinished_before)
            elif failed:
                on_blocked(name, blocked_reason(_causes(failed, unfinished_before)))
                succeeded[name] = False
            else:
                async with slots:
                    succeeded[name] = await run_one(name)
        finally:
            succeeded.setdefault(name, False)
            finished[name].set()

    async with asyncio.TaskGroup() as group:
        for name in names:
            group.create_task(run_node(name), name=f"agent:{name}")
    return succeeded
