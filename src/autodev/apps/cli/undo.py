"""`autodev undo RUN_ID [--force]`: remove a run's branch, worktree and records (`autodev.run.undo`)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, out, print_json, repo_option


@click.command("undo")
@click.argument("run_id")
@click.option("--force", is_flag=True, help="Also undo a run whose branch was pushed (the remote branch stays).")
@repo_option
@json_option
def undo(run_id: str, force: bool, repo: Path, as_json: bool) -> None:
    """Remove RUN_ID's branch, worktree and run directory. Refuses a running run, and without --force a run
    whose branch was pushed; a follow-up (--continue) takes back only its own commit."""
    from autodev.run.undo import undo as undo_run

    result = undo_run(repo, run_id, force=force)
    if as_json:
        print_json(vars(result))
        return
    out.print(f"undid run {esc(result.run_id)}:")
    for what in result.removed:
        out.print(f"  removed {esc(what)}")
    if result.remote_branch:
        remote, branch = result.remote_branch.split(" ", 1)
        out.print(
            f"the pushed branch stays on {esc(remote)}; to delete it: git push {esc(remote)} --delete {esc(branch)}"
        )
