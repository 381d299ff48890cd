"""`autodev bench ...`: performance claims measured side by side in one run, printed as ratios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape as esc

from autodev.apps.cli.bench_plan import bench_selection_plan
from autodev.apps.cli.common import json_option, out, print_json
from autodev.core.errors import UserError

if TYPE_CHECKING:
    from autodev.apps.bench.selection_baseline import Reach

time_scale_option = click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=0.02,
    show_default=True,
    help="Multiply every simulated model time by this (1 = the observed timings).",
)  # the simulated benchmarks (pipeline, batch) share it


@click.group()
def bench() -> None:
    """Measure performance claims side by side in one run."""


bench.add_command(bench_selection_plan)


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
@json_option
def bench_context(repo: Path, commits: Path, budgets: tuple[int, ...], predictions: Path | None, as_json: bool) -> None:
    """Recall of the files each commit changed, from its message, next to a whole-file BM25 baseline."""
    from autodev.apps.bench.context import DEFAULT_BUDGETS, context_benchmark
    from autodev.core.gitops import find_repo

    result = context_benchmark(find_repo(repo), commits, budgets or DEFAULT_BUDGETS, predictions)
    if as_json:
        print_json(result)
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
@json_option
def bench_selection(file: Path, predictions: Path | None, as_json: bool) -> None:
    """The request classifier on commit messages against the diff classifier on the commits' files."""
    from autodev.apps.bench.selection import selection_benchmark

    result = selection_benchmark(file, predictions)
    if as_json:
        print_json(result)
        return
    _print_selection_bench(result)


@bench.command("selection-baseline")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def bench_selection_baseline(files: tuple[Path, ...], as_json: bool) -> None:
    """How far the words alone go: a classifier learnt from the commits' labels, beside the rules."""
    from autodev.apps.bench.selection_baseline import selection_baseline

    rows = selection_baseline(files)
    if as_json:
        print_json({"files": [str(path) for path in files], "projects": [row.as_dict() for row in rows]})
        return
    out.print(
        "[bold]autodev bench selection-baseline[/]: recall of no-code commits (and the share of fast paths "
        "that changed code): the rules beside a naive Bayes model of the first line's words, its cut-off "
        "chosen on the same commits for the most recall at <= 2% unsafe (an upper bound for it)\n"
    )
    out.print(f"{'project':<22} {'no-code':>7}  {'rules':>14}  {'other projects':>14}  {'same project':>14}")
    for row in rows:
        out.print(
            f"{esc(row.project[:22]):<22} {row.no_code_commits:>7,}  {_reach(row.rules):>14}  "
            f"{_reach(row.other_projects):>14}  {_reach(row.same_project):>14}"
        )
    out.print(
        "\nrules: the request classifier as it is; other projects: learnt from the other projects in the "
        "files; same project: learnt from the project's own history (5-fold cross-validation)"
    )


def _reach(reach: Reach | None) -> str:
    if reach is None:
        return "n/a"
    rate = reach.unsafe / reach.fast_paths if reach.fast_paths else 0.0
    return f"{reach.recall:.1%} ({rate:.1%})"


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
    verdict = "[green]met[/]" if result["within_target"] else "[red]NOT MET[/]"
    out.print(f"truth for 'changed code': {esc(result['truth'])}")
    out.print(
        f"\n[bold]unsafe fast paths (request level)[/]: {pct(result['unsafe_rate_of_fast_paths'])} of the "
        f"{result['fast_path_requests']:,} requests sent down a fast path changed code ({result['unsafe']:,}; "
        f"target <= {result['target_unsafe_rate']:.0%}); unconditional: {pct(result['unsafe_rate'])} of all "
        f"{result['records']:,} commits"
    )
    out.print(
        f"recall of no-code commits: {pct(result['fast_path_share'])} of the {result['no_code_commits']:,} commits "
        f"that changed no code got a fast path (target >= {result['target_recall']:.0%}); "
        f"{pct(result['own_class_share'])} got their own class"
    )
    out.print(
        f"reachable once the files are known: {pct(result['no_code_fast_by_files_share'])} of the no-code commits "
        "changed only documentation, configuration or packaging files (the most selection after the plan can "
        "narrow; `autodev bench selection-plan` measures it with a model)"
    )
    out.print(
        f"targets (<= {result['target_unsafe_rate']:.0%} of fast paths unsafe with >= {result['target_recall']:.0%} "
        f"recall): {verdict}"
    )
    out.print(
        "per class (request vs diff): "
        + "; ".join(
            f"{kind} precision {pct(value['precision'])} recall {pct(value['recall'])}"
            for kind, value in result["per_class"].items()
        )
    )
    shown = result["outcome"]
    out.print(
        f"[bold]unsafe outcomes[/] (runs that would finish without tests or audit although code or packaging "
        f"changed, after the diff re-check): {shown['unsafe']:,} = {pct(shown['unsafe_rate'])}; the re-check "
        f"brought the test writer back in {shown['test_writer_brought_back']:,} runs and the auditor in "
        f"{shown['auditor_brought_back']:,}"
    )
    for repo, figures in result["per_repo"].items():
        mark = "" if figures["within_target"] else "  [red]off target[/]"
        conditional = pct(figures["unsafe_rate_of_fast_paths"])
        out.print(
            f"  {esc(repo):<28} {figures['records']:>6,} commits  unsafe {conditional:>6} "
            f"of {figures['fast_path_requests']:>4,} fast paths ({pct(figures['unsafe_rate'])} of all)  "
            f"recall {pct(figures['fast_path_share']):>6}  unsafe outcomes {figures['outcome_unsafe']}{mark}"
        )
    if result["predictions"]:
        out.print(f"predictions written to {esc(result['predictions'])}")


@bench.command("cost")
@json_option
@click.option(
    "--min-cache-tokens",
    type=click.IntRange(min=0),
    default=1024,
    show_default=True,
    help="Smallest prefix the simulated prompt cache stores.",
)
def bench_cost(as_json: bool, min_cache_tokens: int) -> None:
    """Price one pipeline's tokens all-deep, tiered, and tiered with prompt caching."""
    from autodev.apps.bench.cost import cost_benchmark

    result = cost_benchmark(min_cache_tokens)
    if as_json:
        print_json(result)
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
        f"(read at a tenth of the input price, written at 1.25x)."
    )


@bench.command("pipeline")
@json_option
@time_scale_option
@click.option(
    "--features", type=click.IntRange(min=0), default=4, show_default=True, help="Pipelines at once (0: no scale)."
)
def bench_pipeline(as_json: bool, time_scale: float, features: int) -> None:
    """Speed, fast paths, cost and scale of the real orchestrator with a latency-simulating model."""
    from autodev.apps.bench.pipeline import pipeline_benchmark
    from autodev.apps.bench.pipeline_render import render

    result = pipeline_benchmark(time_scale, features)
    if as_json:
        print_json(result)
        return
    for line in render(result):
        out.print(line, highlight=False, markup=False)


@bench.command("profiler")
@json_option
@click.option("--iterations", type=click.IntRange(min=100), default=20_000, show_default=True)
def bench_profiler(as_json: bool, iterations: int) -> None:
    """The PerformanceTimer's overhead per use (enter + exit + record)."""
    from autodev.apps.bench.timer_overhead import profiler_benchmark

    result = profiler_benchmark(iterations)
    if as_json:
        print_json(result)
        return
    verdict = "within" if result["within_target"] else "OVER"
    out.print(
        f"PerformanceTimer overhead: {result['overhead_us_per_use']:.1f} µs per use over {result['iterations']:,} "
        f"uses ({result['records_written']:,} records written); target < {result['target_us']:.0f} µs: {verdict}"
    )


@bench.command("jail")
@json_option
@click.option("--runs", type=click.IntRange(min=1), default=10, show_default=True, help="Gate runs on each side.")
def bench_jail(as_json: bool, runs: int) -> None:
    """What the jail adds to a gate run: the demo project's tests jailed and unconfined, alternating."""
    from autodev.apps.bench.jail_overhead import jail_benchmark, render

    try:
        result = jail_benchmark(runs)
    except RuntimeError as exc:
        raise UserError(f"cannot measure the jail: {exc}", hint="install bubblewrap (apt install bubblewrap)") from None
    if as_json:
        print_json(result.as_json())
        return
    for line in render(result):
        out.print(line, highlight=False, markup=False)


@bench.command("batch")
@json_option
@click.option("--features", type=click.IntRange(min=1), default=4, show_default=True, help="Features per batch.")
@click.option(
    "--activities", type=click.IntRange(min=1), default=2, show_default=True, help="Agent runs at once per worker."
)
@time_scale_option
def bench_batch(as_json: bool, features: int, activities: int, time_scale: float) -> None:
    """Batch throughput on Temporal with 1 and 2 workers, and a cluster-wide rate limit holding (needs the extra)."""
    from autodev.engines.temporal import require_temporal

    require_temporal()
    from autodev.apps.bench.batch import batch_benchmark, render

    result = batch_benchmark(features, activities, time_scale)
    if as_json:
        print_json(result)
        return
    for line in render(result):
        out.print(line, highlight=False, markup=False)
