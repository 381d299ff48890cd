"""`autodev batch FILE` and `autodev status [RUN_ID]`: a backlog of features, and where each one is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import (
    err,
    json_option,
    model_options,
    money,
    out,
    print_json,
    repo_option,
    selection_options,
)
from autodev.apps.cli.screen import fit, wrap_items
from autodev.config.settings import CliOverrides
from autodev.core.clock import utc_now
from autodev.core.errors import RunError
from autodev.engines.batch_file import FeatureResult, parse_batch
from autodev.models.pricing import total_cost
from autodev.run.selection.overrides import SelectionOverrides

ENGINES = click.Choice(["local", "temporal"])
WIDE_BATCH = 120  # from this width on, the batch table has a run id column too


def temporal_options(func: Any) -> Any:
    func = click.option("--task-queue", default=None, help="Temporal task queue (default: from config).")(func)
    func = click.option("--namespace", default=None, help="Temporal namespace (default: from config).")(func)
    return click.option("--address", default=None, help="Temporal server host:port (default: from config).")(func)


@click.command()
@click.argument("batch_file", type=click.Path(path_type=Path, dir_okay=False))
@repo_option
@json_option
@model_options
@selection_options
@click.option(
    "--features", "features_at_once", type=click.IntRange(min=1), default=2, show_default=True,
    help="Features running at once.",
)  # fmt: skip
@click.option("--engine", type=ENGINES, default="local", show_default=True, help="Where the features run.")
@temporal_options
def batch(
    batch_file: Path,
    repo: Path,
    as_json: bool,
    cli_overrides: CliOverrides,
    selection: SelectionOverrides,
    features_at_once: int,
    engine: str,
    address: str | None,
    namespace: str | None,
    task_queue: str | None,
) -> None:
    """Run every request in BATCH_FILE (one per line, or JSON lines with request, repo, id).

    Run the same command again after an interruption: finished features are kept, the rest resume.
    """
    from autodev.core import gitops

    root = gitops.find_repo(repo)
    features = parse_batch(batch_file, root)
    say = err.print  # progress on stderr, so --json output stays clean
    if engine == "temporal":
        from autodev.engines.temporal.client import run_batch_on_temporal

        results = run_batch_on_temporal(
            features,
            cli_overrides,
            address=address,
            namespace=namespace,
            task_queue=task_queue,
            features_at_once=features_at_once,
            reporter=say,
            selection=selection,
            batch_file=batch_file,
            repo=root,
        )
    else:
        from autodev.engines.local.batch import LocalBatch, run_batch_local

        local = LocalBatch(
            features,
            cli_overrides,
            repo=root,
            batch_file=batch_file,
            features_at_once=features_at_once,
            say=say,
            selection=selection,
        )
        results = run_batch_local(local)
    if as_json:
        print_json({"engine": engine, "features": [r.to_json() for r in results], "totals": totals(results)})
    else:
        print_summary(results)
    if any(r.status != "done" for r in results):
        raise SystemExit(1)


def totals(results: list[FeatureResult]) -> dict[str, Any]:
    costs = [r.cost_usd for r in results]
    return {
        "features": len(results),
        "done": sum(r.status == "done" for r in results),
        "failed": sum(r.status != "done" for r in results),
        "input_tokens": sum(r.input_tokens for r in results),
        "output_tokens": sum(r.output_tokens for r in results),
        "cost_usd": None if (cost := total_cost(*costs)) is None else round(cost, 6),
    }


def print_summary(results: list[FeatureResult]) -> None:
    """The batch's table, one feature a line: its request (cut to fit), how it ended, time, tokens, cost.

    The run id (`autodev report RUN_ID`) has a column where the console is wide enough; `--json` and
    `autodev status` always give it."""
    wide = out.width >= WIDE_BATCH
    run_w = 23 if wide else 0  # a run id and its gap
    room = max(out.width - 42 - run_w, 20)  # status, time, tokens in, out, cost and the gaps between them
    run_head = f" {'run':<22}" if wide else ""
    head = f"{'request':<{room}} {'status':<6}{run_head} {'time':>7} {'tokens in':>9} {'out':>7} {'cost':>8}"
    out.print(f"[bold]batch[/]\n[dim]{head}[/]", highlight=False)
    for r in results:
        colour = "green" if r.status == "done" else "red"
        run = f" {r.run_id or '-':<22}" if wide else ""
        out.print(
            f"{esc(f'{fit(r.request, room):<{room}}')} [{colour}]{r.status:<6}[/]{run} {f'{r.duration_s:.1f} s':>7} "
            f"{r.input_tokens:>9,} {r.output_tokens:>7,} {money(r.cost_usd):>8}",
            highlight=False,
        )
    t = totals(results)
    out.print(
        f"{t['done']}/{t['features']} done, {t['input_tokens']:,} tokens in, {t['output_tokens']:,} out, "
        f"cost {money(t['cost_usd'])}"
    )
    for r in results:
        if r.status != "done" and r.error:
            out.print(f"[red]{esc(fit(r.request, 40))}:[/] {esc(r.error.splitlines()[0][:200])}")
    if not wide:
        out.print("[dim]each feature's run id: autodev status (or --json)[/]")


def _age(created_at: object, now: datetime) -> str:
    """How long ago a run started: `45s`, `12m`, `3h`, `2d` (`-` when not known)."""
    if not isinstance(created_at, str) or not created_at:
        return "-"
    try:
        seconds = (now - datetime.fromisoformat(created_at)).total_seconds()
    except ValueError:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(int(seconds), 0)}s"


def print_status(rows: list[dict[str, Any]]) -> None:
    """Each run in two lines and its agents: id, status, stage, age, cost, then branch and request."""
    now = utc_now()
    out.print(f"{'run':<22}  {'status':<12} {'stage':<14} {'age':>5} {'cost':>9}", style="dim", highlight=False)
    for row in rows:
        cost = row.get("cost_usd", "")
        shown_cost = money(cost) if cost is None or isinstance(cost, int | float) else "-"
        out.print(
            f"[bold]{esc(str(row['run_id'])):<22}[/]  {row['status']:<12} {fit(str(row['stage']), 14):<14} "
            f"{_age(row.get('created_at'), now):>5} {shown_cost:>9}",
            highlight=False,
        )
        out.print(f"  {esc(fit(str(row['request']), out.width - 2))}", highlight=False)
        if row.get("branch"):
            out.print(f"  [dim]branch {esc(str(row['branch']))}[/]", highlight=False)
        marks = [f"{name}:{state}" for name, state in row["agents"].items()]
        for line in wrap_items(marks, out.width, label="  ", joiner=""):
            out.print(f"[dim]{esc(line)}[/]", highlight=False)


@click.command()
@click.argument("run_id", required=False)
@repo_option
@json_option
@click.option("--engine", type=ENGINES, default="local", show_default=True, help="Where to look.")
@temporal_options
def status(
    run_id: str | None,
    repo: Path,
    as_json: bool,
    engine: str,
    address: str | None,
    namespace: str | None,
    task_queue: str | None,
) -> None:
    """Each run's stage and each agent's state (all recent runs, or RUN_ID)."""
    if engine == "temporal":
        from autodev.engines.temporal.client import temporal_status

        rows = temporal_status(run_id, address=address, namespace=namespace, repo=repo)
    else:
        from autodev.core import gitops
        from autodev.run.status import local_status

        rows = local_status(gitops.find_repo(repo), run_id)
    if as_json:
        print_json({"runs": rows})
        return
    if not rows:
        raise RunError("no runs to show", hint='start one with autodev run "..." or autodev batch FILE')
    print_status(rows)
