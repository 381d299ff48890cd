"""The `autodev` command: parse, call one function, print. `main(argv) -> int` is tested in-process."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape as esc

from autodev import __version__
from autodev.config import CliOverrides, load_settings, resolve_model
from autodev.errors import AutodevError, UserError
from autodev.pipeline.plan import RunPlan, prepare
from autodev.pipeline.selection import gate_outlook
from autodev.pipeline.state import RunState
from autodev.profiler.overlap import stage_timings
from autodev.progress import make_progress
from autodev.selection.overrides import SelectionOverrides
from autodev.specs import load_agents
from autodev.tools.redact import redact_data

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _repo_option(func: F) -> F:
    return click.option(
        "--repo",
        type=click.Path(path_type=Path),
        default=Path("."),
        show_default=True,
        help="The git repository to work on.",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def _model_options(func: F) -> F:
    func = click.option(
        "--provider",
        type=click.Choice(["anthropic", "openai", "scripted"]),
        default=None,
        help="Model provider (default: config, then detected from API key variables).",
    )(func)
    func = click.option(
        "--model",
        "models",
        multiple=True,
        metavar="TIER=ID",
        help="Serve a tier with a model id, e.g. --model deep=claude-opus-5-5.",
    )(func)
    func = click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents running at once.")(
        func
    )
    return click.option(
        "--script", type=click.Path(dir_okay=False), default=None, help="Reply script for the scripted provider."
    )(func)


def _overrides(
    provider: str | None, models: tuple[str, ...], max_parallel: int | None, script: str | None
) -> CliOverrides:
    return CliOverrides(provider=provider, models=models, max_parallel=max_parallel, script=script)


def _selection_options(func: F) -> F:
    func = click.option(
        "--only", multiple=True, metavar="AGENT,...", help="Run only these agents (comma-separated, repeatable)."
    )(func)
    func = click.option("--skip", multiple=True, metavar="AGENT", help="Skip this agent (repeatable).")(func)
    return click.option("--full", is_flag=True, help="Skip no agent for the change type: the full pipeline.")(func)


def _selection(full: bool, skip: tuple[str, ...], only: tuple[str, ...]) -> SelectionOverrides:
    return SelectionOverrides.from_flags(full, skip, only)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodev")
def cli() -> None:
    """Carry a feature request through a pipeline of specialised agents to a tested change on a branch."""


# ---------------------------------------------------------------- agents
@cli.command()
@_repo_option
@_json_option
@_model_options
def agents(
    repo: Path,
    as_json: bool,
    provider: str | None,
    models: tuple[str, ...],
    max_parallel: int | None,
    script: str | None,
) -> None:
    """List the agents: name, tier, the model that will serve it, its tools and its file."""
    from autodev import gitops

    try:
        root: Path | None = gitops.find_repo(repo)
    except UserError:
        if repo != Path("."):
            raise
        root = None  # outside any repository: built-in and user-level agents only
    settings = load_settings(root, _overrides(provider, models, max_parallel, script))
    from autodev.tools.files import builtin_tools
    from autodev.tools.permissions import scope_for, tools_for_agent

    available = builtin_tools(settings)
    rows: list[dict[str, Any]] = []
    for name, spec in sorted(load_agents(root).items()):
        resolved = resolve_model(spec, settings)
        rows.append(
            {
                "name": name,
                "tier": resolved.tier,
                "model": resolved.model_id,
                "model_source": resolved.source,
                "tools": sorted(tools_for_agent(spec, settings, available)),
                "write_scope": scope_for(name, settings).describe(),
                "unavailable_tools": list(spec.unavailable_tools()),
                "file": str(spec.source),
                "description": spec.description,
            }
        )
    if as_json:
        _print_json({"provider": settings.provider, "agents": rows})
        return
    out.print(f"provider: {settings.provider or 'none configured'} ({esc(str(settings.sources.get('provider')))})")
    for row in rows:
        model = row["model"] or "(no provider)"
        out.print(f"[bold]{row['name']:<17}[/] {row['tier']:<8} {esc(model):<22} {', '.join(row['tools']) or '-'}")
        extra = f"  (not offered here: {', '.join(row['unavailable_tools'])})" if row["unavailable_tools"] else ""
        out.print(f"  [dim]{esc(row['file'] + extra)}[/]")


# ---------------------------------------------------------------- plan
def _plan_json(plan: RunPlan) -> dict[str, Any]:
    return {
        "request": plan.request,
        "repo": str(plan.repo),
        "provider": plan.settings.provider,
        "change_type": plan.selection.change_type,
        "reasons": list(plan.selection.reasons),
        "selection": {"mode": plan.selection.mode, "skips": dict(plan.selection.skips)},
        "max_parallel": plan.settings.max_parallel,
        "stages": [
            [
                {
                    "agent": name,
                    "runs": plan.runs(name),
                    "skip_reason": plan.selection.skips.get(name),
                    "tier": plan.models[name].tier,
                    "model": plan.models[name].model_id,
                    "needs": list(plan.pipeline.node(name).needs),
                }
                for name in stage
            ]
            for stage in plan.stages()
        ],
        "test_gate": {
            "after": plan.pipeline.gate_after,
            "command": plan.test_command,
            "may_skip": gate_outlook(plan.selection),
        },
    }


@cli.command()
@click.argument("request")
@_repo_option
@_json_option
@_model_options
@_selection_options
def plan(
    request: str,
    repo: Path,
    as_json: bool,
    provider: str | None,
    models: tuple[str, ...],
    max_parallel: int | None,
    script: str | None,
    full: bool,
    skip: tuple[str, ...],
    only: tuple[str, ...],
) -> None:
    """Show what a run would do, without calling any model."""
    cli_overrides = _overrides(provider, models, max_parallel, script)
    the_plan = prepare(request, repo, cli_overrides, selection=_selection(full, skip, only))
    if as_json:
        _print_json(_plan_json(the_plan))
        return
    settings = the_plan.settings
    out.print(f"request: {esc(the_plan.request)}")
    out.print(f"change type: [bold]{the_plan.selection.change_type}[/]")
    for reason in the_plan.selection.reasons:
        out.print(f"  [dim]because {esc(reason)}[/]")
    out.print(f"provider: {settings.provider or 'none configured'}; at most {settings.max_parallel} agents at once")
    for index, stage in enumerate(the_plan.stages(), 1):
        together = " (in parallel)" if len(stage) > 1 else ""
        out.print(f"[bold]stage {index}{together}[/]")
        for name in stage:
            resolved = the_plan.models[name]
            if the_plan.runs(name):
                out.print(f"  {name:<17} {resolved.tier:<8} {esc(resolved.model_id or '(no provider)')}")
            else:
                out.print(f"  [dim]{name:<17} skipped: {esc(the_plan.selection.skips[name])}[/]")
        if name == the_plan.pipeline.gate_after or the_plan.pipeline.gate_after in stage:
            command = " ".join(the_plan.test_command) if the_plan.test_command else "none found (gate skipped)"
            may_skip = gate_outlook(the_plan.selection) if the_plan.test_command else None
            outlook = f"; {may_skip}" if may_skip else ""
            out.print(f"  [dim]then the orchestrator runs the tests: {esc(command)}{outlook}[/]")
    if the_plan.dirty_paths:
        out.print(
            f"[yellow]note: {len(the_plan.dirty_paths)} uncommitted change(s) in your checkout would not be "
            "part of the run (it starts from HEAD)[/]"
        )


# ---------------------------------------------------------------- run
def _print_outcome(state: RunState, run_dir: Path) -> None:
    colour = "green" if state.status == "done" else "red"
    out.print(f"\n[bold {colour}]run {state.status}[/]  {state.run_id}")
    if state.error:
        out.print(f"[red]error:[/] {esc(state.error)}")
    cost = f"${state.cost_usd:.4f}" if state.cost_usd is not None else "unknown (a model has no price; see warnings)"
    out.print(f"cost    {cost}")
    for warning in state.warnings:
        out.print(f"[yellow]warning:[/] {esc(warning)}")
    if state.commit:
        diff = state.diff or {}
        out.print(
            f"branch  {state.branch}\ncommit  {state.commit[:12]}  "
            f"({diff.get('files', 0)} files, +{diff.get('insertions', 0)} -{diff.get('deletions', 0)})"
        )
        if diff.get("stat"):
            out.print(esc(diff["stat"].rstrip()))
    elif state.branch:
        out.print(f"branch  {state.branch} (no changes were made)")
    out.print(f"run directory  {esc(str(run_dir))}")
    out.print(f"worktree       {esc(state.worktree)}")


@cli.command()
@click.argument("request")
@_repo_option
@_json_option
@_model_options
@_selection_options
def run(
    request: str,
    repo: Path,
    as_json: bool,
    provider: str | None,
    models: tuple[str, ...],
    max_parallel: int | None,
    script: str | None,
    full: bool,
    skip: tuple[str, ...],
    only: tuple[str, ...],
) -> None:
    """Run the pipeline on REQUEST in an isolated worktree; the result is one commit on autodev/<run_id>."""
    from autodev.providers import build_provider
    from autodev.runner import execute

    cli_overrides = _overrides(provider, models, max_parallel, script)
    the_plan = prepare(request, repo, cli_overrides, selection=_selection(full, skip, only))
    model_provider = build_provider(the_plan.settings)
    if the_plan.dirty_paths:
        err.print(
            f"[yellow]note: your checkout has {len(the_plan.dirty_paths)} uncommitted change(s); the run "
            "starts from HEAD, so they are not part of it (and are left untouched)[/]"
        )
    with make_progress(err) as progress:
        orchestrator, state = execute(the_plan, model_provider, progress)
    _finish_run(state, orchestrator.paths.run_dir, as_json)


def _finish_run(state: RunState, run_dir: Path, as_json: bool) -> None:
    if as_json:
        _print_json(redact_data(state.to_json()))
    else:
        _print_outcome(state, run_dir)
    if state.status != "done":
        raise SystemExit(1)


# ---------------------------------------------------------------- demo
@cli.command()
@_json_option
@click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents running at once.")
def demo(as_json: bool, max_parallel: int | None) -> None:
    """Run the full pipeline on a bundled example project, with scripted model replies (no API key)."""
    from autodev.demo import DEMO_REQUEST, run_demo

    err.print("[bold]autodev demo[/]: the full pipeline on a small example project (textkit).")
    err.print(
        "[yellow]The model's replies are scripted[/] (autodev/demo/script.yaml), so no API key is needed; "
        "the tool calls, file edits, worktree, test runs, state and metrics are all real."
    )
    err.print(f"request: {esc(DEMO_REQUEST)}\n")
    with make_progress(err) as progress:
        result = run_demo(progress, max_parallel=max_parallel)
    if as_json:
        _finish_run(result.state, result.run_dir, as_json)
        return
    _print_outcome(result.state, result.run_dir)
    stages = prepare(DEMO_REQUEST, Path(result.state.repo)).stages()
    for timing in stage_timings(result.state, stages):
        out.print(
            f"in parallel: {' ∥ '.join(timing.agents)}: {timing.wall_s:.2f} s wall for "
            f"{timing.agent_s:.2f} s of agent time ({timing.speedup:.1f}x)"
        )
    out.print(f"\nLook at the change:  git -C {esc(result.state.repo)} show {result.state.branch}")
    out.print(f"State and metrics:   {esc(str(result.run_dir))}/ (state.json, metrics.jsonl, sessions/)")
    out.print(
        "On your own repository, with a real provider:\n"
        "  export ANTHROPIC_API_KEY=...   # or OPENAI_API_KEY, or OPENAI_BASE_URL=http://localhost:11434/v1 (Ollama)\n"
        '  autodev plan "your request" --repo PATH   # what would run, tiers and models; no model calls\n'
        '  autodev run "your request" --repo PATH'
    )
    if result.state.status != "done":
        raise SystemExit(1)


# ---------------------------------------------------------------- issue
@cli.command()
@click.argument("idea")
@_repo_option
@_json_option
@_model_options
@click.option("--create", is_flag=True, help="File the draft with the GitHub CLI (gh).")
def issue(
    idea: str,
    repo: Path,
    as_json: bool,
    provider: str | None,
    models: tuple[str, ...],
    max_parallel: int | None,
    script: str | None,
    create: bool,
) -> None:
    """Draft an issue for IDEA (researcher-local, then issue-creator); --create files it with gh."""
    from autodev.runner import run_issue

    with make_progress(err) as progress:
        result = run_issue(idea, repo, _overrides(provider, models, max_parallel, script), progress, create=create)
    if as_json:
        _print_json(
            {
                "state": redact_data(result.state.to_json()),
                "draft": str(result.draft_path) if result.draft_path else None,
                "url": result.url,
                "missing_sections": list(result.missing_sections),
            }
        )
    elif result.draft_path:
        out.print(f"\nissue draft: {esc(str(result.draft_path))}")
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


# ---------------------------------------------------------------- report
def _spans(records: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    spans: dict[str, list[tuple[str, str]]] = {}
    for record in records:
        if record.get("kind") == "agent" and record.get("started_at") and record.get("ended_at"):
            spans.setdefault(record["agent"], []).append((record["started_at"], record["ended_at"]))
    return spans


def _money(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "n/a"


@cli.command()
@click.argument("run_id", required=False)
@click.option("--last", is_flag=True, help="The most recent run (the default).")
@click.option("--all", "all_runs", is_flag=True, help="Every run: per-agent p50/p95 across runs.")
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the run's timeline to FILE (.png, .html or .svg).",
)
@_repo_option
@_json_option
def report(run_id: str | None, last: bool, all_runs: bool, timeline: Path | None, repo: Path, as_json: bool) -> None:
    """Where a run's time and money went: per agent, per run and across runs."""
    from autodev import gitops
    from autodev.pipeline.graph import stages as graph_stages
    from autodev.profiler import report as rep
    from autodev.profiler.runs import find_run, list_runs, load_state

    if all_runs and timeline is not None:
        raise UserError("--timeline draws one run", hint="drop --all, or name a run: autodev report RUN_ID")
    root = gitops.find_repo(repo)
    cache = rep.read_records(root / ".autodev" / "cache" / "performance_metrics.jsonl")
    if all_runs:
        history = rep.trends(cache)
        runs = []
        for run_dir in list_runs(root):
            state = load_state(run_dir)
            records = rep.read_records(run_dir / "metrics.jsonl")
            one = rep.run_report(state, records, state.get("pipeline") or {})
            runs.append(
                {
                    "run_id": one.run_id,
                    "status": one.status,
                    "wall_s": one.wall_s,
                    "cost_usd": one.totals["cost_usd"],
                    "request": one.request,
                }
            )
        if as_json:
            _print_json({"runs": runs, "agents": [vars(t) for t in history]})
            return
        out.print(f"[bold]{len(runs)} runs[/] in {esc(str(root))}")
        for item in runs:
            out.print(
                f"  {item['run_id']}  {item['status']:<7} {item['wall_s']:7.1f}s  {_money(item['cost_usd']):>9}  "
                f"{esc(item['request'][:60])}"
            )
        out.print(f"\n{'agent':<17} {'runs':>5} {'p50 s':>8} {'p95 s':>8}")
        for trend in history:
            out.print(f"{trend.agent:<17} {trend.samples:>5} {trend.p50_s:>8.2f} {trend.p95_s:>8.2f}")
        return
    run_dir = find_run(root, None if last else run_id)
    state = load_state(run_dir)
    records = rep.read_records(run_dir / "metrics.jsonl")
    needs = state.get("pipeline") or {}
    one = rep.run_report(state, records, needs)
    settings = load_settings(root)
    specs = load_agents(root)
    budgets = {name: spec.context_tokens for name, spec in specs.items()}
    from autodev.pipeline.graph import Node, Pipeline

    pipeline = Pipeline(tuple(Node(agent, tuple(deps)) for agent, deps in needs.items()))
    # Judged against the other runs: with its own sample in the p95, a slow run would hide itself.
    history = rep.trends(record for record in cache if record.get("run_id") != one.run_id)
    found = rep.bottlenecks(one, history, settings.time_budgets)
    advice = rep.hints(one, budgets, graph_stages(pipeline) if needs else [], cache)
    if timeline is not None:
        from autodev.profiler.timeline import write_timeline

        write_timeline(one, _spans(records), timeline)
    if as_json:
        _print_json(
            {**one.to_json(), "bottlenecks": found, "hints": advice, "timeline": str(timeline) if timeline else None}
        )
        return
    out.print(f"[bold]run {one.run_id}[/]  {one.status}  {esc(one.request[:80])}")
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
            f"{row.cache_write_tokens:>7,} {_money(row.cost_usd):>9} {row.turns:>5} {row.peak_context:>8,} "
            f"{row.handoff_tokens:>7,}  {tools}"
        )
    totals = one.totals
    out.print(
        f"{'total':<17} {'':<9} {'':<8} {'':<18} {totals['duration_s']:>7.2f} {totals['input_tokens']:>8,} "
        f"{totals['output_tokens']:>6,} {totals['cache_read_tokens']:>7,} {totals['cache_write_tokens']:>7,} "
        f"{_money(totals['cost_usd']):>9} {totals['turns']:>5}"
    )
    efficiency = f"{one.parallel_efficiency:.2f}" if one.parallel_efficiency is not None else "n/a"
    out.print(
        f"\nwall {one.wall_s:.2f}s; agent time {totals['duration_s']:.2f}s; parallel efficiency "
        f"(agent time / wall) {efficiency}"
    )
    out.print(f"critical path {one.critical_path_s:.2f}s: {' -> '.join(one.critical_path) or '-'}")
    if one.timers:
        out.print("timers: " + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in sorted(one.timers.items())))
    for line in found:
        out.print(f"[yellow]bottleneck:[/] {esc(line)}")
    for line in advice:
        out.print(f"[cyan]hint:[/] {esc(line)}")
    if timeline is not None:
        out.print(f"timeline written to {esc(str(timeline))}")


# ---------------------------------------------------------------- clean
@cli.command()
@click.argument("run_ids", nargs=-1)
@click.option("--purge", is_flag=True, help="Also delete run directories and the branches of done runs.")
@click.option("--force", is_flag=True, help="Also clean runs still marked running.")
@_repo_option
@_json_option
def clean(run_ids: tuple[str, ...], purge: bool, force: bool, repo: Path, as_json: bool) -> None:
    """Remove finished runs' worktrees (and, with --purge, their branches and run directories)."""
    from autodev import gitops
    from autodev.cleanup import clean as clean_runs

    result = clean_runs(gitops.find_repo(repo), list(run_ids) or None, purge=purge, force=force)
    if as_json:
        _print_json(vars(result))
        return
    out.print(
        f"removed {len(result.worktrees)} worktree(s), {len(result.branches)} branch(es), "
        f"{len(result.run_dirs)} run director(y/ies)"
    )
    for line in result.kept:
        out.print(f"[dim]kept {esc(line)}[/]")


@cli.command("context")
@click.argument("request")
@click.option("--budget", type=click.IntRange(min=1), default=4000, show_default=True, help="Token budget.")
@_repo_option
@_json_option
def context_cmd(request: str, budget: int, repo: Path, as_json: bool) -> None:
    """Retrieve the code most relevant to REQUEST, packed as snippets within --budget tokens."""
    from autodev.context.retrieval import build_context
    from autodev.gitops import find_repo

    pack = build_context(find_repo(repo), request, budget)
    if as_json:
        _print_json(pack.to_json())
        return
    out.print(f"[bold]autodev context[/]: {len(pack.files)} files, {pack.total_tokens:,} of {budget:,} tokens")
    for row in pack.files:
        out.print(f"{row['score']:>9.3f} {row['tokens']:>7,}  {esc(row['path'])}")


# ---------------------------------------------------------------- bench
@cli.group()
def bench() -> None:
    """Measure performance claims side by side in one run."""


@bench.command("context")
@click.option("--repo", type=click.Path(path_type=Path), default=Path("."), show_default=True, help="The repository.")
@click.option(
    "--commits",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help='JSONL of {"sha", "message"} records.',
)
@click.option("--budget", "budgets", type=click.IntRange(min=1), multiple=True, help="Token budget (repeatable).")
@click.option("--predictions", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write JSONL.")
@_json_option
def bench_context(repo: Path, commits: Path, budgets: tuple[int, ...], predictions: Path | None, as_json: bool) -> None:
    """Recall of the files each commit changed, from its message, next to a whole-file BM25 baseline."""
    from autodev.bench.context import DEFAULT_BUDGETS, context_benchmark
    from autodev.gitops import find_repo

    result = context_benchmark(find_repo(repo), commits, budgets or DEFAULT_BUDGETS, predictions)
    if as_json:
        _print_json(result)
        return
    out.print(
        f"[bold]autodev bench context[/]: {result['measured']} of {result['records']} commits measured "
        f"({result['skipped_missing']} not in the repository, {result['skipped_no_source_change']} "
        f"changed no existing non-test source file)"
    )
    out.print(f"{'budget':>8} {'recall':>8} {'baseline':>9} {'tokens':>8} {'baseline tokens':>16}")

    def cell(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for row in result["budgets"]:
        out.print(
            f"{row['budget']:>8,} {cell(row['recall'], '.1%'):>8} {cell(row['baseline_recall'], '.1%'):>9} "
            f"{cell(row['mean_tokens'], ',.0f'):>8} {cell(row['baseline_mean_tokens'], ',.0f'):>16}"
        )
    out.print("recall: share of each commit's changed non-test source files in the pack (mean over commits)")


@bench.command("selection")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one JSON line per record: sha, request_class, diff_class, reasons.",
)
@_json_option
def bench_selection(file: Path, predictions: Path | None, as_json: bool) -> None:
    """The request classifier on commit messages against the diff classifier on the commits' files."""
    from autodev.bench.selection import selection_benchmark

    result = selection_benchmark(file, predictions)
    if as_json:
        _print_json(result)
        return
    _print_selection_bench(result)


def _print_selection_bench(result: dict[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    classes = result["classes"]
    out.print(
        f"[bold]autodev bench selection[/]: {result['records']:,} commits from {esc(result['file'])}"
        + (f" ({result['skipped_lines']} unusable lines skipped)" if result["skipped_lines"] else "")
    )
    out.print("rows: the request classifier on the message; columns: the diff classifier on the files\n")
    corner = "request \\ diff"
    out.print(f"{corner:<15}" + "".join(f"{kind:>9}" for kind in classes) + f"{'total':>9}")
    for request_class in classes:
        row = result["confusion"][request_class]
        out.print(f"{request_class:<15}" + "".join(f"{row[k]:>9,}" for k in classes) + f"{sum(row.values()):>9,}")
    verdict = "[green]within[/]" if result["within_target"] else "[red]OVER[/]"
    out.print(
        f"\nunsafe fast paths: {result['unsafe']:,} of {result['records']:,} commits = {pct(result['unsafe_rate'])} "
        f"(target <= {result['target_unsafe_rate']:.0%}: {verdict}); {pct(result['unsafe_rate_of_fast_paths'])} of "
        f"the {result['fast_path_requests']:,} requests sent down a fast path changed code"
    )
    shares = ", ".join(f"{kind} {pct(value)}" for kind, value in result["fast_path_share_by_diff_class"].items())
    out.print(
        f"fast-path share: {pct(result['fast_path_share'])} of the {result['no_code_commits']:,} commits that "
        f"changed no code got a fast path ({shares}); {pct(result['own_class_share'])} got their own class"
    )
    for repo, figures in result["per_repo"].items():
        out.print(
            f"  {esc(repo):<32} {figures['records']:>6,} commits  unsafe {pct(figures['unsafe_rate']):>6}  "
            f"fast-path share {pct(figures['fast_path_share']):>6}"
        )
    if result["predictions"]:
        out.print(f"predictions written to {esc(result['predictions'])}")


@bench.command("cost")
@_json_option
@click.option(
    "--min-cache-tokens",
    type=click.IntRange(min=0),
    default=1024,
    show_default=True,
    help="Smallest prefix the simulated prompt cache stores.",
)
def bench_cost(as_json: bool, min_cache_tokens: int) -> None:
    """Price one pipeline's tokens all-deep, tiered, and tiered with prompt caching."""
    from autodev.bench.cost import cost_benchmark

    result = cost_benchmark(min_cache_tokens)
    if as_json:
        _print_json(result)
        return
    usd, ratio = result["usd"], result["ratio_to_all_deep"]
    models = result["models"]
    out.print(
        f"[bold]autodev bench cost[/]: the demo pipeline, {result['calls']} model calls, "
        f"{result['input_tokens']:,} input / {result['output_tokens']:,} output tokens (offline estimates)"
    )
    out.print(
        f"prices read {result['prices_read_on']}; tiers: fast={models['fast']}, "
        f"balanced={models['balanced']}, deep={models['deep']}\n"
    )
    out.print(
        f"{'agent':<17} {'model':<18} {'input':>8} {'output':>7} {'all-deep $':>11} {'tiered $':>10} {'+cache $':>10}"
    )
    for name, row in result["agents"].items():
        out.print(
            f"{name:<17} {row['model']:<18} {row['input']:>8,} {row['output']:>7,} {row['cost_deep']:>11.4f} "
            f"{row['cost_tiered']:>10.4f} {row['cost_tiered_cached']:>10.4f}"
        )
    out.print("")
    labels = {
        "all_deep": "all deep",
        "all_deep_cached": "all deep + prompt caching",
        "tiered": "tiered",
        "tiered_cached": "tiered + prompt caching",
    }
    for key, label in labels.items():
        out.print(f"{label:<27} ${usd[key]:.4f}   {ratio[key]:.2f} x all-deep   (saves {1 - ratio[key]:.0%})")
    out.print(
        f"\nWhy: tiering moves the fast and balanced agents' tokens to models that cost less per token than "
        f"{models['deep']}; prompt caching served {result['cache_read_share']:.0%} of input tokens from cache "
        f"(read at a tenth of the input price, written at 1.25x). The research note claimed 40-60 % from tiers."
    )


@bench.command("pipeline")
@_json_option
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=0.02,
    show_default=True,
    help="Multiply every simulated model time by this (1 = the observed timings).",
)
@click.option(
    "--features", type=click.IntRange(min=0), default=4, show_default=True, help="Pipelines at once (0: no scale)."
)
def bench_pipeline(as_json: bool, time_scale: float, features: int) -> None:
    """Speed, fast paths, cost and scale of the real orchestrator with a latency-simulating model."""
    from autodev.bench.pipeline import pipeline_benchmark, render

    result = pipeline_benchmark(time_scale, features)
    if as_json:
        _print_json(result)
        return
    for line in render(result):
        out.print(line, highlight=False, markup=False)


@bench.command("profiler")
@_json_option
@click.option("--iterations", type=click.IntRange(min=100), default=20_000, show_default=True)
def bench_profiler(as_json: bool, iterations: int) -> None:
    """The PerformanceTimer's overhead per use (enter + exit + record)."""
    from autodev.bench.profiler import profiler_benchmark

    result = profiler_benchmark(iterations)
    if as_json:
        _print_json(result)
        return
    verdict = "within" if result["within_target"] else "OVER"
    out.print(
        f"PerformanceTimer overhead: {result['overhead_us_per_use']:.1f} µs per use over {result['iterations']:,} "
        f"uses ({result['records_written']:,} records written); target < {result['target_us']:.0f} µs: {verdict}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="autodev", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except AutodevError as exc:
        err.print(f"[red]error:[/] {esc(exc.message)}", highlight=False)
        if exc.hint:
            err.print(f"  {esc(exc.hint)}", highlight=False)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
