"""`autodev config show`: every setting, its value and the layer it came from."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, model_options, out, print_json, repo_option, warn_ignored
from autodev.config.settings import CliOverrides, load_settings
from autodev.config.show import ConfigReport, config_report
from autodev.core import gitops
from autodev.core.errors import UserError


@click.group("config")
def config_group() -> None:
    """Show the settings and where each comes from.

    Lowest first: built-in defaults, the user file (~/.config/autodev/config.toml), the repository's
    file, AUTODEV_* variables, flags. Every key is described in docs/config.md.
    """


def _repo_or_none(repo: Path) -> Path | None:
    """The repository at `repo`; outside any, the default `.` means "no repository" (user-level only)."""
    try:
        return gitops.find_repo(repo)
    except UserError:
        if repo != Path("."):
            raise
        return None


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _flag(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def _print(report: ConfigReport) -> None:
    user_state = "" if report.user_file_exists else " (not found)"
    out.print(f"user file:       {esc(report.user_file)}{user_state}")
    out.print(f"repository file: {esc(report.repo_file or 'none')}")
    if report.capabilities is not None:
        offered = ", ".join(f"{name.replace('_', ' ')}: {_flag(value)}" for name, value in report.capabilities.items())
        out.print(f"provider {esc(str(report.provider))}: {esc(offered)}")
    width = max(len(row.key) for row in report.settings)
    for row in report.settings:
        out.print(f"{esc(row.key):<{width}}  {esc(_value(row.value))}  [dim]({esc(row.source)})[/]")


@config_group.command("show")
@repo_option
@json_option
@model_options
def show(repo: Path, as_json: bool, cli_overrides: CliOverrides) -> None:
    """Every setting, its value and where it came from (API keys are never shown)."""
    settings = load_settings(_repo_or_none(repo), cli_overrides)
    report = config_report(settings)
    warn_ignored(report.ignored)
    if as_json:
        print_json(report.to_json())
    else:
        _print(report)
