"""Following a run from its state.json, as MCP progress notifications: agents finished out of all.

The run's process writes state.json at every transition; polling it is all a follower needs, and works
the same for a run this server started, one started from a terminal, and one resumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context

from autodev.apps.mcp import queries

POLL_S = 0.25
FINISHED = frozenset({"done", "skipped", "failed", "cancelled"})


def _progress(row: dict[str, Any]) -> tuple[int, int, str]:
    agents: dict[str, str] = row.get("agents", {})
    finished = sum(1 for status in agents.values() if status in FINISHED)
    return finished, len(agents), f"{row['run_id']}: {row['stage']} ({row['status']})"


async def follow(ctx: Context, root: Path, run_dir: Path, wait_s: float) -> dict[str, Any]:
    """The run's status row once it is no longer live, or when `wait_s` is up; progress sent on each change."""
    last: tuple[int, int, str] | None = None
    with anyio.move_on_after(wait_s):
        while True:
            row = await anyio.to_thread.run_sync(queries.status_of, root, run_dir.name)
            now = _progress(row)
            if now != last:
                await ctx.report_progress(now[0], now[1] or None, now[2])
                last = now
            if not row["live"]:
                return row
            await anyio.sleep(POLL_S)
    return await anyio.to_thread.run_sync(queries.status_of, root, run_dir.name)
