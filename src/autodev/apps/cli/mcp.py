"""`autodev mcp`: serve autodev's tools to an MCP client (Claude Code, Cursor, Codex CLI ...) over stdio."""

from __future__ import annotations

from pathlib import Path

import click

from autodev.apps.cli.common import repo_option
from autodev.core.errors import UserError


@click.command("mcp")
@repo_option
def mcp_server(repo: Path) -> None:
    """Serve plan, run, status, report, diff, resume and cancel as MCP tools over stdio (stdout is the protocol)."""
    try:
        from autodev.apps.mcp.server import serve
    except ImportError as exc:  # the optional extra is not installed
        raise UserError(
            f"autodev mcp needs the MCP SDK, which is not installed ({exc.name})",
            hint="pip install 'autonomous-dev[mcp]'",
        ) from None
    serve(repo.expanduser().resolve())
