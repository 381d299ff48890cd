"""Commands that carry a request through the pipeline in this process and print the outcome:
`run`, `resume`, `approve` (answer a run's `--approve` pause and go on), `demo` (the bundled example,
scripted replies) and `issue` (draft an issue).

They share the outcome's printing and exit code: 0 when the run is done, 3 stopped at its cost cap, 4 waiting
for approval, 1 otherwise, with the
state (secrets redacted) as JSON on request.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape as esc

from autodev.apps.cli.approval import approve_option, terminal_approver
from autodev.apps.cli.common import (
    err,
    json_option,
    max_cost_option,
    model_options,
    out,
    print_json,
    repo_option,
    selection_options,
    warn_ignored,
)
from autodev.apps.cli.progress import make_progress
from autodev.apps.cli.publishing import issue_request, print_published, publish_after, publish_options, ready
from autodev.apps.cli.screen import wrap
from autodev.apps.report.overlap import stage_timings
from autodev.config.settings import CliOverrides
from autodev.core.errors import EXIT_AWAITING_APPROVAL, EXIT_BUDGET, UserError
from autodev.core.redact import redact, redact_data
from autodev.run.plan import prepare
from autodev.run.publish.request import PublishRequest
from autodev.run.sections import DiffStat
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.state import RunState

if TYPE_CHECKING:
    from autodev.engines.local.follow_up import FollowUp

STOPPED_EXITS = {"budget": EXIT_BUDGET, "awaiting-approval": EXIT_AWAITING_APPROVAL}  # resumable stops


def _print_outcome(state: RunState, run_dir: Path) -> None:
    colour = "green" if state.status == "done" else "red"
    out.print(f"\n[bold {colour}]run {state.status}[/]  {state.run_id}")
    if state.error:
        out.print(f"[red]error:[/] {esc(redact(state.error))}")
    cost = f"${state.cost_usd:.4f}" if state.cost_usd is not None else "unknown (a model has no price; see warnings)"
    out.print(f"cost    {cost}")
    for warning in state.warnings:
        out.print(f"[yellow]warning:[/] {esc(redact(warning))}")
    if state.commit:
        diff = state.diff or DiffStat(0, 0, 0, "")
        out.print(
            f"branch  {state.branch}\ncommit  {state.commit[:12]}  "
            f"({diff.files} files, +{diff.insertions} -{diff.deletions})"
        )
        if diff.stat:
            out.print(esc(redact(diff.stat.rstrip())))
    elif state.branch and Path(state.worktree).is_dir():
        out.print(f"branch  {state.branch} (no changes were made)")
    print_published(state)
    out.print(f"run directory  {esc(str(run_dir))}")
    if Path(state.worktree).is_dir():
        out.print(f"worktree       {esc(state.worktree)}")
    if state.status != "done" and state.branch:
        raise_cap = " --max-cost USD" if state.status == "budget" else ""
        go_on = "approve" if state.status == "awaiting-approval" else "resume"
        out.print(f"[yellow]{go_on:<15}[/]autodev {go_on} {state.run_id} --repo {esc(state.repo)}{raise_cap}")


@click.command()
@click.argument("request", required=False)
@click.option(
    "--issue",
    "issue_ref",
    metavar="N|URL|FILE.md",
    default=None,
    help="Take the request from a GitHub issue (through gh) or a markdown file; REQUEST, if given, is added to it.",
)
@click.option(
    "--continue",
    "continue_id",
    metavar="RUN_ID",
    default=None,
    help="Add REQUEST as a follow-up change on that done run's branch, reusing its research.",
)
@repo_option
@json_option
@model_options
@selection_options
@publish_options
@approve_option
@click.option("--run-id", "run_id", default=None, hidden=True, help="Use this new run id (autodev mcp picks it).")
def run(
    request: str | None,
    issue_ref: str | None,
    continue_id: str | None,
    repo: Path,
    as_json: bool,
    cli_overrides: CliOverrides,
    selection: SelectionOverrides,
    publishing: PublishRequest | None,
    approve: tuple[str, ...],
    run_id: str | None,
) -> None:
    """Run the pipeline on REQUEST (or an issue) in an isolated worktree; the result is one commit on
    autodev/<run_id>, pushed with --push, and proposed as a pull request with --pr. With --continue RUN_ID,
    one more commit on that run's branch."""
    from autodev.config.providers import build_provider
    from autodev.engines.local.follow_up import follow_up_request, load_previous
    from autodev.engines.local.launch import execute
    from autodev.run.layout import RunPaths, check_run_id

    follow: FollowUp | None = None
    if continue_id is not None:
        if issue_ref is not None or not (request or "").strip():
            raise click.UsageError('--continue RUN_ID takes the follow-up as REQUEST ("also handle X"), not --issue')
        follow = load_previous(continue_id, repo)
    from_issue = issue_request(issue_ref, request, repo)
    text = from_issue.request if from_issue is not None else request or ""
    if follow is not None:
        text = follow_up_request(text, follow.previous)
    the_plan = prepare(text, repo, cli_overrides, selection=selection)
    the_plan = dataclasses.replace(
        the_plan,
        issue=from_issue.ref if from_issue else None,
        publish=ready(publishing, the_plan.repo),
        approve=tuple(dict.fromkeys(approve)),
    )
    if follow is not None:  # the follow-up starts at the branch's tip: done, one more commit on top
        the_plan = dataclasses.replace(the_plan, base_commit=follow.tip, publish=_push_only(follow, the_plan.publish))
    if run_id is not None and RunPaths.for_run(the_plan.repo, check_run_id(run_id)).run_dir.exists():
        raise UserError(f"run {run_id} exists already", hint="a run id names one run; leave --run-id out")
    model_provider = build_provider(the_plan.settings)
    warn_ignored(the_plan.settings.ignored_notes())
    if the_plan.dirty_paths:
        err.print(
            f"[yellow]note: your checkout has {len(the_plan.dirty_paths)} uncommitted change(s); the run "
            "starts from HEAD, so they are not part of it (and are left untouched)[/]"
        )
    with make_progress(err) as progress:
        orchestrator, state = execute(
            the_plan, model_provider, progress, follow_up=follow, approver=terminal_approver(progress), run_id=run_id
        )
    finish_run(state, orchestrator.paths.run_dir, as_json, the_plan.publish)


def _push_only(follow: FollowUp, publishing: PublishRequest | None) -> PublishRequest | None:
    """A follow-up's --pr when the branch already has a pull request: pushing adds the commit to it."""
    earlier = follow.previous.published
    if publishing is None or not publishing.pr or earlier is None or not earlier.pull_request:
        return publishing
    err.print(f"note: the branch's pull request {esc(earlier.pull_request)} gets the follow-up's commit: pushing only")
    return PublishRequest(publishing.remote, False, False, publishing.base)


@click.command()
@click.argument("run_id")
@repo_option
@json_option
@max_cost_option
def resume(run_id: str, repo: Path, as_json: bool, max_cost: float | None) -> None:
    """Go on with a killed, interrupted or failed run (or one stopped at its cost cap: raise it with --max-cost)
    from its newest checkpoint; finished agents are not re-run."""
    from autodev.engines.local.launch import resume_run

    with make_progress(err) as progress:
        result = resume_run(run_id, repo, progress, max_cost=max_cost, approver=terminal_approver(progress))
    finish_run(result.state, result.run_dir, as_json, PublishRequest.from_options(result.state.options))


@click.command("approve")
@click.argument("run_id")
@click.option("--reject", is_flag=True, help="Reject: the run ends as failed instead of going on.")
@repo_option
@json_option
def approve(run_id: str, reject: bool, repo: Path, as_json: bool) -> None:
    """Answer the approval a run waits for (status awaiting-approval), and go on with it."""
    from autodev.engines.local.launch import answer_approval, resume_run

    point = answer_approval(run_id, repo, reject=reject)
    err.print(f"{point}: {'rejected' if reject else 'approved'}")
    with make_progress(err) as progress:
        result = resume_run(run_id, repo, progress, approver=terminal_approver(progress))
    finish_run(result.state, result.run_dir, as_json, PublishRequest.from_options(result.state.options))


def finish_run(state: RunState, run_dir: Path, as_json: bool, publishing: PublishRequest | None = None) -> None:
    """Print the outcome; publish a done run first when asked (a publishing error ends with exit 2)."""
    not_published = publish_after(state, publishing)
    if as_json:
        print_json(redact_data(state.to_json()))
    else:
        _print_outcome(state, run_dir)
    if state.status != "done":
        raise SystemExit(STOPPED_EXITS.get(state.status, 1))
    if not_published is not None:
        raise not_published


@click.command()
@json_option
@click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents running at once.")
def demo(as_json: bool, max_parallel: int | None) -> None:
    """Run the full pipeline on a bundled example project, with scripted model replies (no API key)."""
    from autodev.apps.demo import DEMO_REQUEST, run_demo

    err.print("[bold]autodev demo[/]: the full pipeline on a small example project (textkit).")
    intro = (
        "The model's replies are scripted (autodev/apps/demo/script.yaml), so no API key is needed; "
        "the tool calls, file edits, worktree, test runs, state and metrics are all real."
    )
    err.print(esc("\n".join(wrap(intro, err.width))))
    err.print(esc("\n".join(wrap(DEMO_REQUEST, err.width, label="request: "))) + "\n")
    with make_progress(err) as progress:
        result = run_demo(progress, max_parallel=max_parallel)
    if as_json:
        finish_run(result.state, result.run_dir, as_json)
        return
    _print_outcome(result.state, result.run_dir)
    stages = prepare(DEMO_REQUEST, Path(result.state.repo)).stages()
    for timing in stage_timings(result.state, stages):
        said = (
            f"in parallel: {' ∥ '.join(timing.agents)}: {timing.wall_s:.2f} s wall for "
            f"{timing.agent_s:.2f} s of agent time (overlap {timing.overlap:.1f})"
        )
        out.print(esc("\n".join(wrap(said, out.width, indent=2))))
    out.print(f"\nLook at the change:  git -C {esc(result.state.repo)} show {result.state.branch}")
    out.print("                     [dim](kept until the next autodev demo replaces it)[/]")
    out.print(f"State and metrics:   {esc(str(result.run_dir))}/ (state.json, metrics.jsonl, sessions/)")
    out.print(
        "On your own repository (a local model server: docs/local-models.md):\n"
        "  export ANTHROPIC_API_KEY=...          # or OPENAI_API_KEY\n"
        '  autodev plan "your request" --repo PATH   # what would run; no model calls\n'
        '  autodev run "your request" --repo PATH'
    )
    if result.state.status != "done":
        raise SystemExit(1)


@click.command()
@click.argument("idea")
@repo_option
@json_option
@model_options
@click.option("--create", is_flag=True, help="File the draft with the GitHub CLI (gh).")
def issue(
    idea: str,
    repo: Path,
    as_json: bool,
    cli_overrides: CliOverrides,
    create: bool,
) -> None:
    """Draft an issue for IDEA (researcher-local, then issue-creator); --create files it with gh."""
    from autodev.engines.local.launch import run_issue

    with make_progress(err) as progress:
        result = run_issue(idea, repo, cli_overrides, progress, create=create)
    if as_json:
        print_json(
            {
                "state": redact_data(result.state.to_json()),
                "draft": str(result.draft_path) if result.draft_path else None,
                "url": result.url,
                "missing_sections": list(result.missing_sections),
            }
        )
    elif result.draft_path:
        out.print(f"\nissue draft: {esc(str(result.draft_path))}")
        out.print(
            f"build it:    autodev run --issue {esc(str(result.draft_path))} --repo {esc(str(result.state.repo))}"
        )
        if result.missing_sections:
            out.print(f"[yellow]the draft lacks: {', '.join(result.missing_sections)}[/]")
        if result.url:
            out.print(f"created: {esc(str(result.url))}")
    else:
        out.print(f"[red]no draft: {esc(str(result.state.error))}[/]")
    if result.state.status != "done":
        raise SystemExit(1)
    if create and result.missing_sections:
        err.print("[red]not filed: the draft is missing required sections[/]")
        raise SystemExit(1)
