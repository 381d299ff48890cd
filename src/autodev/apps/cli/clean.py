"""`autodev clean`: remove what finished runs leave behind (worktrees; with --purge branches and run
directories), never touching a live run.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import counted, json_option, out, print_json, repo_option


@click.command()
@click.argument("run_ids", nargs=-1)
@click.option("--purge", is_flag=True, help="Also delete run directories and the branches of done runs.")
@click.option("--force", is_flag=True, help="Also clean killed or interrupted runs (a live run is never touched).")
@repo_option
@json_option
def clean(run_ids: tuple[str, ...], purge: bool, force: bool, repo: Path, as_json: bool) -> None:
    """Remove finished runs' worktrees (and, with --purge, their branches and run directories)."""
    from autodev.core import gitops
    from autodev.run.cleanup import clean as clean_runs

    result = clean_runs(gitops.find_repo(repo), list(run_ids) or None, purge=purge, force=force)
    if as_json:
        print_json(vars(result))
        return
    out.print(
        f"removed {counted(len(result.worktrees), 'worktree')}, {counted(len(result.branches), 'branch', 'branches')}, "
        f"{counted(len(result.run_dirs), 'run directory', 'run directories')}"
    )
    for patch in result.patches:
        out.print(f"saved uncommitted work to {esc(patch)}")
    for line in result.kept:
        out.print(f"[dim]kept {esc(line)}[/]")
