"""What every `autodev` command shares: the consoles, the common options, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from rich.console import Console
from rich.markup import escape as esc

from autodev.config.settings import CliOverrides
from autodev.core.redact import redact
from autodev.models.registry import provider_names
from autodev.run.selection.overrides import SelectionOverrides

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def repo_option(func: F) -> F:
    return click.option(
        "--repo",
        type=click.Path(path_type=Path),
        default=Path("."),
        show_default=True,
        help="The git repository to work on.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def model_options(func: F) -> F:
    """--provider, --model, --max-parallel, --script, --sandbox and --max-cost, handed to the command as one
    `cli_overrides`."""

    @functools.wraps(func)
    def with_overrides(
        *args: Any,
        provider: str | None,
        models: tuple[str, ...],
        max_parallel: int | None,
        script: str | None,
        sandbox: str | None,
        max_cost: float | None,
        **kwargs: Any,
    ) -> Any:
        overrides = CliOverrides(
            provider=provider,
            models=models,
            max_parallel=max_parallel,
            script=script,
            sandbox=sandbox,
            max_cost=max_cost,
        )
        return func(*args, cli_overrides=overrides, **kwargs)

    command: Callable[..., Any] = with_overrides
    command = click.option(
        "--provider",
        type=click.Choice(provider_names()),
        default=None,
        help="Model provider (default: config, then detected from API key variables).",
    )(command)
    command = click.option(
        "--model",
        "models",
        multiple=True,
        metavar="TIER=ID",
        help="Serve a tier with a model id, e.g. --model deep=claude-opus-5-5.",
    )(command)
    command = click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents running at once.")(
        command
    )
    command = click.option(
        "--script", type=click.Path(dir_okay=False), default=None, help="Reply script for the scripted provider."
    )(command)
    command = click.option(
        "--sandbox",
        type=click.Choice(["auto", "bubblewrap", "off"]),
        default=None,
        help="The jail for the project's tests and agents' commands (off: unconfined, with a warning).",
    )(command)
    command = max_cost_option(command)
    return cast(F, command)


def max_cost_option(func: F) -> F:
    return click.option(
        "--max-cost",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="USD",
        help="A hard cap on the run's model cost: no call that could take it over is made; the run stops, resumably.",
    )(func)


def selection_options(func: F) -> F:
    """--full, --skip and --only, handed to the command as one `selection`."""

    @functools.wraps(func)
    def with_selection(*args: Any, full: bool, skip: tuple[str, ...], only: tuple[str, ...], **kwargs: Any) -> Any:
        return func(*args, selection=SelectionOverrides.from_flags(full, skip, only), **kwargs)

    command: Callable[..., Any] = with_selection
    command = click.option(
        "--only", multiple=True, metavar="AGENT,...", help="Run only these agents (comma-separated, repeatable)."
    )(command)
    command = click.option("--skip", multiple=True, metavar="AGENT", help="Skip this agent (repeatable).")(command)
    command = click.option("--full", is_flag=True, help="Skip no agent for the change type: the full pipeline.")(
        command
    )
    return cast(F, command)


def warn_ignored(notes: list[str]) -> None:
    """The repository settings left out until `autodev trust` approves them: one line each, on stderr."""
    for note in notes:
        err.print(f"[yellow]warning:[/] {esc(redact(note))}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def money(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "n/a"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 worktree`, `2 worktrees`, `0 run directories`: the noun agrees with the count."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
