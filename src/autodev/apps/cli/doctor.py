"""`autodev doctor`: check everything a run needs, one line each (✓ fine, ! worth knowing, ✗ to fix); exit 1
when anything fails."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, model_options, out, print_json, repo_option
from autodev.config.settings import CliOverrides

COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


@click.command("doctor")
@repo_option
@json_option
@model_options
@click.option("--push", is_flag=True, help="Also check the remote a run would push to.")
@click.option("--pr", is_flag=True, help="Also check the remote and the GitHub CLI's login (gh auth status).")
@click.option("--remote", default="origin", show_default=True, help="The remote --push and --pr use.")
def doctor(repo: Path, as_json: bool, cli_overrides: CliOverrides, push: bool, pr: bool, remote: str) -> None:
    """Check the set-up: git, the configuration, the key or base URL, each model (one tiny tool-call request
    each), the test command run once in the jail, disk space, and with --pr the gh login. Exit 1 if any fails."""
    from autodev.apps.setup.doctor import DoctorOptions, run_doctor

    checks = run_doctor(repo, DoctorOptions(push=push, pr=pr, remote=remote, cli=cli_overrides))
    failed = [check for check in checks if check.status == "fail"]
    if as_json:
        print_json({"ok": not failed, "checks": [check.to_json() for check in checks]})
    else:
        for check in checks:
            out.print(f"[{COLOURS[check.status]}]{esc(check.line())}[/]")
        where = f" --repo {esc(str(repo))}" if repo != Path(".") else ""
        if failed:
            out.print(f"\n{len(failed)} check(s) failed: fix the ✗ lines, then run autodev doctor{where} again")
        else:
            out.print(f'\nready. next: autodev plan "your request"{where}, then autodev run "your request"{where}')
    if failed:
        raise SystemExit(1)
