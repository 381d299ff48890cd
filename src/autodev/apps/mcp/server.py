"""The MCP server: autodev's tools and resources on the official `mcp` SDK, served over stdio.

Each tool checks its arguments, does its work off the event loop (git and file reads block), and turns
every `AutodevError` into an MCP tool error whose text is the one-line message and hint the command
line would print: a bad call never takes the server down. The answers are the JSON of the matching
command (`autodev plan --json`, `status --json`, `report --json`, `run --json`).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from autodev import __version__
from autodev.apps.mcp import launcher, queries
from autodev.apps.mcp.arguments import RunOptions, repository, run_directory
from autodev.apps.mcp.progress import follow
from autodev.core.errors import AutodevError, UserError
from autodev.core.redact import redact

T = TypeVar("T")

INSTRUCTIONS = (
    "autodev carries a feature request through a pipeline of specialised agents to one tested commit on a "
    "branch autodev/<run_id>. Call autodev_plan first and show the user the stages and models; start the run "
    "with autodev_run only once they agree. A run goes on in the background: follow it with autodev_status "
    "(wait_seconds > 0 waits for the end, with progress notifications), then read autodev_report and "
    "autodev_diff. autodev_cancel stops a run so that autodev_resume can go on with it later."
)
MAX_WAIT_S = 600.0


def _message(exc: AutodevError) -> str:
    text = exc.message + (f"; {exc.hint}" if exc.hint else "")
    return redact(text)


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """A user's mistake (or a run's refusal) as an MCP tool error, with the hint the CLI would print."""
    try:
        yield
    except AutodevError as exc:
        raise ToolError(_message(exc)) from None


@contextlib.contextmanager
def resource_errors() -> Iterator[None]:
    try:
        yield
    except AutodevError as exc:
        raise ResourceError(_message(exc)) from None


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Blocking work (git, reading runs) in a worker thread, so the server goes on answering meanwhile."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args))


def _row(root: Path, started: launcher.Started) -> dict[str, Any]:
    """The new run's status row; a process still setting up on a loaded machine has none yet."""
    if not (started.run_dir / "state.json").is_file():
        return {"run_id": started.run_id, "status": "starting", "live": True, "stage": "setup", "agents": {}}
    return queries.status_of(root, started.run_id)


def build_server(default_repo: Path) -> MCPServer[Any]:
    """The server for `default_repo` (a tool's `repo` argument names another repository)."""
    server: MCPServer[Any] = MCPServer(
        name="autodev", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    async def root_of(repo: str | None) -> Path:
        return await in_thread(repository, repo, default_repo)

    @server.tool()
    async def autodev_plan(request: str, repo: str | None = None, options: RunOptions | None = None) -> dict[str, Any]:
        """What a run on REQUEST would do, calling no model: the change type and why, the stages with each
        agent's tier and model, the agents skipped, the test command and the jail. Nothing is written."""
        with tool_errors():
            root = await root_of(repo)
            return await in_thread(queries.plan, request, root, options or RunOptions())

    @server.tool()
    async def autodev_run(request: str, repo: str | None = None, options: RunOptions | None = None) -> dict[str, Any]:
        """Start a run on REQUEST in the background and answer at once with its run_id. The run is an
        ordinary `autodev run` process: it goes on if the client disconnects; follow it with autodev_status."""
        with tool_errors():
            root = await root_of(repo)
            chosen = options or RunOptions()
            await in_thread(queries.plan, request, root, chosen)  # bad options fail here, before any process
            started = await launcher.start_run(root, request, chosen.argv())
            row = await in_thread(_row, root, started)
            return {**row, "repo": str(root), "pid": started.pid, "log": str(started.log), "working": started.working}

    @server.tool()
    async def autodev_status(
        ctx: Context,
        run_id: str | None = None,
        repo: str | None = None,
        wait_seconds: float = 0.0,
    ) -> dict[str, Any]:
        """Each recent run's stage, status and agents, or one run's (run_id; a unique prefix will do). With
        wait_seconds > 0 (at most 600), wait that long for the run to end, sending progress notifications."""
        with tool_errors():
            root = await root_of(repo)
            if run_id is not None and wait_seconds > 0:
                run_dir = await in_thread(run_directory, root, run_id)
                row = await follow(ctx, root, run_dir, min(wait_seconds, MAX_WAIT_S))
                return {"runs": [row]}
            return await in_thread(queries.status, root, run_id)

    @server.tool()
    async def autodev_report(run_id: str, repo: str | None = None) -> dict[str, Any]:
        """Where the run's time and money went: per agent time, tokens, cost, tool calls; the critical path,
        bottlenecks and hints (`autodev report RUN_ID --json`)."""
        with tool_errors():
            return await in_thread(queries.report, await root_of(repo), run_id)

    @server.tool()
    async def autodev_diff(run_id: str, repo: str | None = None, path: str | None = None) -> dict[str, Any]:
        """The run's change against its base commit (its commit when done, else its newest checkpoint), as a
        unified diff and a stat; `path` limits it to a file or directory inside the repository."""
        with tool_errors():
            return await in_thread(queries.diff, await root_of(repo), run_id, path)

    @server.tool()
    async def autodev_resume(run_id: str, repo: str | None = None, max_cost: float | None = None) -> dict[str, Any]:
        """Go on with a stopped run (cancelled, killed, interrupted, failed, or stopped at its cost cap: give a
        higher max_cost) from its newest checkpoint, in the background; finished agents are not run again."""
        with tool_errors():
            if max_cost is not None and max_cost <= 0:
                raise UserError(f"max_cost must be more than 0, not {max_cost}")
            root = await root_of(repo)
            run_dir = await in_thread(run_directory, root, run_id)
            raised = [] if max_cost is None else ["--max-cost", repr(max_cost)]
            started = await launcher.resume_run(root, run_dir, raised)
            row = await in_thread(_row, root, started)
            return {**row, "pid": started.pid, "log": str(started.log), "working": started.working}

    @server.tool()
    async def autodev_cancel(run_id: str, repo: str | None = None) -> dict[str, Any]:
        """Stop a running run the way Ctrl-C does: it saves its state and can be resumed with autodev_resume."""
        with tool_errors():
            root = await root_of(repo)
            run_dir = await in_thread(run_directory, root, run_id)
            stopped = await launcher.cancel_run(run_dir)
            row = await in_thread(queries.status_of, root, run_dir.name)
            return {**row, "stopped": stopped}

    @server.resource("autodev://runs", mime_type="application/json", description="The runs of the repository.")
    async def runs_resource() -> str:
        with resource_errors():
            return json.dumps(await in_thread(queries.runs, await root_of(None)))

    @server.resource("autodev://runs/{run_id}/state", mime_type="application/json", description="A run's state.")
    async def state_resource(run_id: str) -> str:
        with resource_errors():
            return json.dumps(await in_thread(queries.state, await root_of(None), run_id), indent=2)

    @server.resource("autodev://runs/{run_id}/report", mime_type="application/json", description="A run's report.")
    async def report_resource(run_id: str) -> str:
        with resource_errors():
            return json.dumps(await in_thread(queries.report, await root_of(None), run_id), indent=2)

    return server


def serve(default_repo: Path) -> None:
    """Answer MCP requests on stdin/stdout until the client closes them."""
    build_server(default_repo).run("stdio")
