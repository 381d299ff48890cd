"""`autodev report`: where a run's time and money went, per agent, per run and across runs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, money, out, print_json, repo_option
from autodev.core.errors import UserError
from autodev.core.records import AgentRecord, MetricRecord, of_kind, read_metrics
from autodev.run.gate.summary import GATE_LANE, GateSection, gate_spans
from autodev.run.report import RunReport


def _spans(records: Iterable[MetricRecord]) -> dict[str, list[tuple[str, str]]]:
    """Each timeline lane's runs: the agents' from their records, the tests' from their timers."""
    records = list(records)
    spans: dict[str, list[tuple[str, str]]] = {}
    for record in of_kind(records, AgentRecord):
        if record.started_at and record.ended_at:
            spans.setdefault(record.agent, []).append((record.started_at, record.ended_at))
    if tests := gate_spans(records):
        spans[GATE_LANE] = tests
    return spans


def _summary(one: RunReport) -> dict[str, object]:
    """One run's line of `report --all --json`."""
    return {
        "run_id": one.run_id,
        "status": one.status,
        "wall_s": one.wall_s,
        "cost_usd": one.totals.cost_usd,
        "request": one.request,
    }


def _print_gate(gate: GateSection | None) -> None:
    """The test step's section: how it ended, what ran where, the counts and the failing tests."""
    if gate is None:
        out.print(f"\n{GATE_LANE:<17} [dim]not run (the run ended before its tests)[/]")
        return
    if gate.status == "skipped":
        out.print(f"\n{GATE_LANE:<17} [dim]skipped: {esc(gate.reason or '')}[/]")
        return
    colour = "green" if gate.status == "passed" else "red"
    last = f" (last {gate.last_duration_s:.2f}s)" if gate.runs > 1 and gate.last_duration_s is not None else ""
    out.print(
        f"\n{GATE_LANE:<17} [{colour}]{gate.status or 'running'}[/]  {gate.runs} run(s), {gate.duration_s:.2f}s"
        f"{last}, exit {gate.exit_code if gate.exit_code is not None else 'none (timed out or did not start)'}"
    )
    out.print(f"  command      {esc(gate.command or '-')}")
    out.print(f"  environment  {esc(gate.environment or 'not recorded')}")
    out.print(f"  counts       {esc(gate.counts.describe()) if gate.counts else 'not reported by the runner'}")
    if gate.failing:
        out.print(f"  failing      {esc(', '.join(gate.failing))}")


@click.command()
@click.argument("run_id", required=False)
@click.option("--last", is_flag=True, help="The most recent run (the default).")
@click.option("--all", "all_runs", is_flag=True, help="Every run: per-agent p50/p95 across runs.")
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the run's timeline to FILE (.png, .html or .svg).",
)
@repo_option
@json_option
def report(run_id: str | None, last: bool, all_runs: bool, timeline: Path | None, repo: Path, as_json: bool) -> None:
    """Where a run's time and money went: per agent, per run and across runs."""
    from autodev.core import gitops
    from autodev.run import report as rep
    from autodev.run.layout import find_run, list_runs, load_state
    from autodev.run.report_view import build_report

    if all_runs and timeline is not None:
        raise UserError("--timeline draws one run", hint="drop --all, or name a run: autodev report RUN_ID")
    root = gitops.find_repo(repo)
    cache = read_metrics(root / ".autodev" / "cache" / "performance_metrics.jsonl")
    if all_runs:
        history = rep.trends(cache)
        runs = []
        for run_dir in list_runs(root):
            state = load_state(run_dir)
            runs.append(rep.run_report(state, read_metrics(run_dir / "metrics.jsonl"), state.pipeline))
        if as_json:
            print_json({"runs": [_summary(one) for one in runs], "agents": [vars(t) for t in history]})
            return
        out.print(f"[bold]{len(runs)} runs[/] in {esc(str(root))}")
        for one in runs:
            out.print(
                f"  {one.run_id}  {one.status:<7} {one.wall_s:7.1f}s  {money(one.totals.cost_usd):>9}  "
                f"{esc(one.request[:60])}"
            )
        out.print(f"\n{'agent':<17} {'runs':>5} {'p50 s':>8} {'p95 s':>8}")
        for trend in history:
            out.print(f"{trend.agent:<17} {trend.samples:>5} {trend.p50_s:>8.2f} {trend.p95_s:>8.2f}")
        return
    view = build_report(root, find_run(root, None if last else run_id))
    one, found, advice = view.report, view.bottlenecks, view.hints
    if timeline is not None:
        from autodev.apps.report.timeline import write_timeline

        write_timeline(one, _spans(view.records), timeline)
    if as_json:
        print_json(view.to_json(timeline))
        return
    out.print(f"[bold]run {one.run_id}[/]  {one.status}  {esc(one.request[:80])}")
    if one.error:  # its first line; a failed gate's error goes on with the test output, which --json keeps whole
        first, *rest = one.error.splitlines() or [""]
        more = f"  [dim]({len(rest)} more lines: autodev report --json)[/]" if rest else ""
        out.print(f"[red]error:[/] {esc(first.rstrip(':'))}{more}")
    header = (
        f"{'agent':<17} {'status':<9} {'tier':<8} {'model':<18} {'time s':>7} {'in':>8} {'out':>6} "
        f"{'c.read':>7} {'c.write':>7} {'cost':>9} {'turns':>5} {'peak ctx':>8} {'handoff':>7}  tools"
    )
    out.print(header)
    for row in one.agents:
        if not row.runs:
            out.print(f"{row.agent:<17} [dim]{row.status:<9} {esc(str(row.skip_reason or ''))}[/]")
            continue
        tools = ", ".join(f"{name} {count}" for name, count in sorted(row.tool_calls.items()))
        out.print(
            f"{row.agent:<17} {row.status:<9} {row.tier or '':<8} {esc(row.model or ''):<18} {row.duration_s:>7.2f} "
            f"{row.input_tokens:>8,} {row.output_tokens:>6,} {row.cache_read_tokens:>7,} "
            f"{row.cache_write_tokens:>7,} {money(row.cost_usd):>9} {row.turns:>5} {row.peak_context:>8,} "
            f"{row.handoff_tokens:>7,}  {tools}"
        )
    totals = one.totals
    out.print(
        f"{'total':<17} {'':<9} {'':<8} {'':<18} {totals.duration_s:>7.2f} {totals.input_tokens:>8,} "
        f"{totals.output_tokens:>6,} {totals.cache_read_tokens:>7,} {totals.cache_write_tokens:>7,} "
        f"{money(totals.cost_usd):>9} {totals.turns:>5}"
    )
    _print_gate(one.gate)
    efficiency = f"{one.parallel_efficiency:.2f}" if one.parallel_efficiency is not None else "n/a"
    out.print(
        f"\nwall {one.wall_s:.2f}s; agent time {totals.duration_s:.2f}s; "
        f"{f'tests {one.gate.duration_s:.2f}s; ' if one.gate and one.gate.runs else ''}parallel efficiency "
        f"(agent time / wall) {efficiency}"
    )
    out.print(f"critical path {one.critical_path_s:.2f}s: {' -> '.join(one.critical_path) or '-'}")
    budget = view.handoff_budget()
    if budget:
        parts = ", ".join(f"{name} {tokens}" for name, tokens in budget.get("per_agent", {}).items())
        out.print(f"handoffs {budget.get('total')} of {budget.get('budget')} tokens: {parts}")
        for name, change in budget.get("compacted", {}).items():
            out.print(f"  {name} compacted {change['from']} -> {change['to']} tokens (full text in its session file)")
    if one.timers:
        out.print("timers: " + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in sorted(one.timers.items())))
    for line in found:
        out.print(f"[yellow]bottleneck:[/] {esc(line)}")
    for line in advice:
        out.print(f"[cyan]hint:[/] {esc(line)}")
    if timeline is not None:
        out.print(f"timeline written to {esc(str(timeline))}")
