"""`--approve plan|diff` on a terminal, and `autodev approve RUN_ID [--reject]` everywhere else.

On a terminal the run asks at the pause itself: the plan (or the diff stat) and the cost so far and
still to come, then yes / no / edit (the plan, in `$EDITOR`; the edited text is what the agents after
the planner read). Without a terminal (CI, a pipe) the run stops in status `awaiting-approval`, and
`autodev approve` records the answer and goes on with it, as `autodev resume` would.
"""

from __future__ import annotations

import contextlib
import sys

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err
from autodev.core.redact import redact
from autodev.run.approval import POINTS, ApprovalAnswer, ApprovalRequest, Approver


def approve_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--approve",
        "approve",
        multiple=True,
        type=click.Choice(POINTS),
        help="Pause for your approval after the planner (plan) or before the final commit (diff); repeatable. "
        "Without a terminal the run waits in status awaiting-approval for `autodev approve`.",
    )(func)


def on_a_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def terminal_approver(progress: object) -> Approver | None:
    """Asks on the terminal (the live progress paused meanwhile); None when there is no terminal to ask on."""
    if not on_a_terminal():
        return None

    def ask(request: ApprovalRequest) -> ApprovalAnswer | None:
        pause = getattr(progress, "paused", contextlib.nullcontext)
        with pause():
            try:
                return _ask(request)
            except (click.exceptions.Abort, EOFError):  # end of input: no answer, the run waits
                err.print("no answer: the run waits for `autodev approve`")
                return None

    return ask


def _ask(request: ApprovalRequest) -> ApprovalAnswer:
    text, edited = request.text, None
    what = "the plan" if request.point == "plan" else "the change"
    while True:
        err.print(f"\n[bold]approve {what}[/] (run {request.run_id})\n")
        err.print(esc(redact(text.rstrip())))
        err.print(f"\n[dim]{esc(request.cost)}[/]")
        choices = ["y", "n", "e"] if request.point == "plan" else ["y", "n"]
        prompt = "Approve? y(es) / n(o)" + (" / e(dit the plan)" if request.point == "plan" else "")
        choice = click.prompt(prompt, type=click.Choice(choices), show_choices=False, err=True)
        if choice != "e":
            return ApprovalAnswer(choice == "y", plan=edited if choice == "y" else None)
        changed = click.edit(text, extension=".md")
        if changed is not None and changed.strip():
            text = edited = changed
