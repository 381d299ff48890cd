"""`--issue`, `--push` and `--pr` on `autodev run` (and their replay by `autodev resume`).

The issue is read, and the pull request's base branch chosen, before anything is written; publishing
happens after the run is done. A run that cannot be published keeps its branch and ends with exit 2
and the exact commands that publish it by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err, out
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.redact import redact
from autodev.run.layout import RunPaths
from autodev.run.publish.issue_in import IssueInput, read_issue
from autodev.run.publish.publish import publish, readiness_notes, resolve_base
from autodev.run.publish.request import PublishRequest
from autodev.run.state import RunState

F = TypeVar("F", bound=Callable[..., Any])


def publish_options(func: F) -> F:
    """--push, --pr, --draft, --remote and --base, handed to the command as one `publishing` (None: not asked)."""

    @functools.wraps(func)
    def with_publishing(
        *args: Any, push: bool, pr: bool, draft: bool, remote: str | None, base: str | None, **kwargs: Any
    ) -> Any:
        if draft and not pr:
            raise UserError("--draft needs --pr", hint="add --pr to open the pull request as a draft")
        if (remote or base) and not (push or pr):
            flag = "--remote" if remote else "--base"
            raise UserError(f"{flag} needs --push or --pr", hint="add --push (or --pr) to publish the run's branch")
        wanted = PublishRequest(remote or "origin", pr, draft, base) if (push or pr) else None
        return func(*args, publishing=wanted, **kwargs)

    command: Callable[..., Any] = with_publishing
    command = click.option("--base", default=None, metavar="BRANCH", help="The pull request's base branch.")(command)
    command = click.option("--remote", default=None, metavar="NAME", help="The remote to push to (default: origin).")(
        command
    )
    command = click.option("--draft", is_flag=True, help="Open the pull request as a draft (with --pr).")(command)
    command = click.option(
        "--pr", is_flag=True, help="Push the branch and open a pull request for it with the GitHub CLI (gh)."
    )(command)
    command = click.option("--push", is_flag=True, help="Push the run's branch autodev/<run_id> when the run is done.")(
        command
    )
    return cast(F, command)


def issue_request(reference: str | None, request: str | None, repo: Path) -> IssueInput | None:
    """The request an `--issue` makes (REQUEST, when given too, is added as further instructions)."""
    if reference is None:
        if request is None:  # given but blank: `prepare` says the request is empty
            raise UserError(
                "say what to do: a REQUEST, or --issue N|URL|FILE.md",
                hint='e.g. autodev run "add a --version flag", or autodev run --issue 7',
            )
        return None
    return read_issue(reference, gitops.find_repo(repo), extra=request)


def ready(publishing: PublishRequest | None, repo: Path) -> PublishRequest | None:
    """The request with its base branch resolved now (the branch the run starts from); notes on stderr."""
    if publishing is None:
        return None
    root = gitops.find_repo(repo)
    for note in readiness_notes(publishing, root):
        err.print(f"[yellow]note: {esc(redact(note))}[/]")
    base = resolve_base(root, publishing.remote, publishing.base)
    return PublishRequest(publishing.remote, publishing.pr, publishing.draft, base)


def publish_after(state: RunState, publishing: PublishRequest | None) -> UserError | None:
    """Publish a done run as asked; the error to end with (exit 2) when that could not be done."""
    if publishing is None or state.published is not None:
        return None
    if state.status != "done":
        err.print(f"[yellow]not published: the run is {state.status}; `autodev resume` publishes it when it is done[/]")
        return None
    try:
        if publish(state, RunPaths.for_run(Path(state.repo), state.run_id), publishing) is None:
            err.print("[yellow]not published: the run changed nothing[/]")
    except UserError as exc:
        return exc
    return None


def print_published(state: RunState) -> None:
    if state.published is None:
        return
    out.print(f"pushed  {state.published.branch} -> {esc(state.published.remote)}")
    if state.published.pull_request:
        draft = " (draft)" if state.published.draft else ""
        out.print(f"pull request  {esc(state.published.pull_request)}{draft}")
