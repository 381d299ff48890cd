"""`autodev report`: where a run's time and money went, per agent, per run and across runs; with
`--html FILE`, the run's page (timeline, agents, tests, handoffs, diff, verdicts) in one file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, money, out, print_json, repo_option
from autodev.apps.cli.screen import fit
from autodev.core.errors import UserError
from autodev.core.records import read_metrics
from autodev.run.report import RunReport


def _summary(one: RunReport) -> dict[str, object]:
    """One run's line of `report --all --json`."""
    return {
        "run_id": one.run_id,
        "status": one.status,
        "wall_s": one.wall_s,
        "cost_usd": one.totals.cost_usd,
        "request": one.request,
    }


def _print_all(root: Path, as_json: bool) -> None:
    """Every run on one line each, then each agent's p50 and p95 across runs."""
    from autodev.run import report as rep
    from autodev.run.layout import list_runs, load_state

    history = rep.trends(read_metrics(root / ".autodev" / "cache" / "performance_metrics.jsonl"))
    runs = []
    for run_dir in list_runs(root):
        state = load_state(run_dir)
        runs.append(rep.run_report(state, read_metrics(run_dir / "metrics.jsonl"), state.pipeline))
    if as_json:
        print_json({"runs": [_summary(one) for one in runs], "agents": [vars(t) for t in history]})
        return
    out.print(f"[bold]{len(runs)} runs[/] in {esc(str(root))}")
    out.print(f"{'run':<22} {'status':<8} {'wall s':>7} {'cost':>8}  request", highlight=False)
    for one in runs:
        line = f"{one.run_id:<22} {one.status:<8} {one.wall_s:>7.1f} {money(one.totals.cost_usd):>8}  "
        out.print(esc(line + fit(one.request, max(out.width - len(line), 10))), highlight=False)
    out.print(f"\n{'agent':<17} {'runs':>5} {'p50 s':>8} {'p95 s':>8}")
    for trend in history:
        out.print(f"{trend.agent:<17} {trend.samples:>5} {trend.p50_s:>8.2f} {trend.p95_s:>8.2f}")
    out.print("[dim]p50 / p95: the median and 95th percentile of the agent's time over the runs[/]")


FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("run_id", required=False)
@click.option("--last", is_flag=True, help="The most recent run (the default).")
@click.option("--all", "all_runs", is_flag=True, help="Every run: per-agent p50/p95 across runs.")
@click.option("--timeline", type=FILE, default=None, help="Draw the run's timeline to FILE (.png, .html or .svg).")
@click.option(
    "--html",
    type=FILE,
    default=None,
    help="Write the run's page to FILE: timeline, agents, tests, handoffs, diff and verdicts in one HTML file.",
)
@repo_option
@json_option
def report(
    run_id: str | None, last: bool, all_runs: bool, timeline: Path | None, html: Path | None, repo: Path, as_json: bool
) -> None:
    """Where a run's time and money went: per agent, per run and across runs; with --html, the run's page."""
    from autodev.apps.report.timeline import spans_of
    from autodev.core import gitops
    from autodev.run.layout import find_run
    from autodev.run.report_view import build_report

    if all_runs and (timeline is not None or html is not None):
        option = "--timeline" if timeline is not None else "--html"
        raise UserError(f"{option} draws one run", hint="drop --all, or name a run: autodev report RUN_ID")
    root = gitops.find_repo(repo)
    if all_runs:
        _print_all(root, as_json)
        return
    view = build_report(root, find_run(root, None if last else run_id))
    if timeline is not None:
        from autodev.apps.report.timeline import write_timeline

        write_timeline(view.report, spans_of(view.records), timeline)
    if html is not None:
        from autodev.apps.report.page import write_page

        write_page(root, view, html)
    if as_json:
        print_json(view.to_json(timeline, html))
        return
    from autodev.apps.cli.report_text import print_run

    print_run(view)
    if timeline is not None:
        out.print(f"timeline written to {esc(str(timeline))}")
    if html is not None:
        out.print(f"run page written to {esc(str(html))}")
