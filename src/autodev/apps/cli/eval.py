"""`autodev eval`: outcome quality on task suites with hidden tests (parse, call `autodev.apps.eval`, print).

`autodev eval SUITE ...` is short for `autodev eval run SUITE ...`: the group treats a first argument
that is not one of its commands as a suite, so the common case needs no subcommand while `validate`
and `report` stay ordinary subcommands with their own `--help`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    selection_options,
)
from autodev.config.settings import CliOverrides
from autodev.run.selection.overrides import SelectionOverrides

DEFAULT_OUT = Path("autodev-eval")


class EvalGroup(click.Group):
    """A group whose first argument may be a suite: `eval SUITE` runs `eval run SUITE`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=EvalGroup, subcommand_metavar="SUITE [OPTIONS] | validate SUITE | report A [B]")
def eval_group() -> None:
    """Outcome quality: run the pipeline on coding tasks whose tests the agents never see.

    \b
    autodev eval SUITE [--tasks GLOB] [--trials N] [--tries 1|2] [--jobs N] [--json]
        run every task (same as `autodev eval run SUITE ...`)
    autodev eval validate SUITE     oracle and null models: is every task fair?
    autodev eval swebench --dataset FILE --predictions OUT.jsonl   SWE-bench predictions
    autodev eval check-predictions OUT.jsonl   does it read in the official harness?
    autodev eval report A [B]       one result set, or two compared (tasks that flipped)

    SUITE is a directory of tasks (task.toml + repo/ tests/ solution/), an Exercism Python
    track, Aider's polyglot-benchmark clone (every language whose toolchain is on PATH), or the
    shipped `builtin` / `builtin-smoke` suites.
    """


def _task_options(func: Any) -> Any:
    func = click.option(
        "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Tasks running at once."
    )(func)
    return click.option(
        "--tasks",
        "patterns",
        multiple=True,
        metavar="GLOB",
        help="Only tasks whose names match (repeatable or comma-separated), e.g. --tasks 'bug*'.",
    )(func)


# ---------------------------------------------------------------- run
@eval_group.command("run")
@click.argument("suite")
@_task_options
@click.option("--trials", type=click.IntRange(min=1), default=1, show_default=True, help="Runs of each task.")
@click.option(
    "--tries",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="2: a failing task's test output goes back to the implementer once.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results directory (default: ./autodev-eval/SUITE). Rerunning into it resumes.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An autodev config (TOML) applied to every task: tiers, budgets, skips to compare.",
)
@click.option("--keep", is_flag=True, help="Keep each task's temporary repository.")
@json_option
@model_options
@selection_options
def run_cmd(
    suite: str,
    patterns: tuple[str, ...],
    jobs: int,
    trials: int,
    tries: int,
    out_dir: Path | None,
    config_file: Path | None,
    keep: bool,
    as_json: bool,
    cli_overrides: CliOverrides,
    selection: SelectionOverrides,
) -> None:
    """Run the pipeline on every task of SUITE and grade it on the hidden tests."""
    from autodev.apps.eval.catalog import load_any_suite as load_suite
    from autodev.apps.eval.harness import check_provider, run_eval
    from autodev.apps.eval.options import EvalOptions
    from autodev.apps.eval.polyglot.figures import headline
    from autodev.apps.eval.results import summarize
    from autodev.apps.eval.tasks import select_tasks
    from autodev.apps.eval.workspace import load_user_config

    the_suite = load_suite(suite)
    tasks = select_tasks(the_suite, patterns)
    options = EvalOptions(
        trials=trials,
        tries=tries,
        jobs=jobs,
        cli=cli_overrides,
        selection=selection if selection != SelectionOverrides() else None,
        user_config=load_user_config(config_file) if config_file else None,
        keep=keep,
    )
    check_provider(options)  # before the first line of output: nothing runs without a provider
    target = out_dir or DEFAULT_OUT / the_suite.name
    units = len(tasks) * trials
    _print_skipped(the_suite.skipped)
    err.print(
        f"[bold]autodev eval[/] {esc(the_suite.name)}: {len(tasks)} task(s) x {trials} trial(s), tries {tries}; "
        f"results in {esc(str(target))}"
    )
    seen = [0]

    def progress(result: dict[str, Any]) -> None:
        seen[0] += 1
        err.print(f"  [{seen[0]}/{units}] {_result_line(result)}")

    outcome = run_eval(the_suite, tasks, target, options, on_result=progress)
    if outcome.resumed:
        err.print(f"[dim]{outcome.resumed} result(s) were already in {esc(str(target))} and were not run again[/]")
    summary = summarize(outcome.results)
    polyglot = headline(outcome.results).to_json() if any(t.format == "polyglot" for t in tasks) else None
    if as_json:
        print_json(
            {
                "suite": the_suite.name,
                "out": str(target),
                "options": options.manifest(),
                "summary": summary.to_json(),
                "polyglot": polyglot,
                "skipped_languages": [{"language": lang, "reason": why} for lang, why in the_suite.skipped],
                "tasks": outcome.results,
            }
        )
        return
    _print_results(outcome.results)
    _print_summary(summary.to_json())
    if polyglot is not None:
        _print_headline(polyglot)


# ---------------------------------------------------------------- validate
@eval_group.command("validate")
@click.argument("suite")
@_task_options
@click.option(
    "--repos",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="SWE-bench: local clones named owner__repo (default: clone from GitHub once).",
)
@json_option
def validate_cmd(suite: str, patterns: tuple[str, ...], jobs: int, repos: Path | None, as_json: bool) -> None:
    """Check every task of SUITE is fair: the oracle (reference solution) passes, the null model fails.

    SUITE may also be a SWE-bench dataset (.jsonl/.parquet): the oracle writes the gold patch, and
    "pass" is the local grade (an approximation of the official harness). No provider is needed:
    the oracle writes the reference files through the implementer's own tool calls and the
    reviewers approve; the null model changes nothing. Exit 1 when a task is flagged.
    """
    from autodev.apps.eval.catalog import load_any_suite as load_suite
    from autodev.apps.eval.tasks import select_tasks
    from autodev.apps.eval.validate import validate, validate_swebench

    def progress(result: dict[str, Any]) -> None:
        err.print(f"  {result['model']:<6} {_result_line(result)}")

    skipped: tuple[tuple[str, str], ...] = ()
    if suite.endswith((".jsonl", ".parquet")):
        from autodev.apps.eval.swebench.dataset import load_instances, select_instances

        instances = select_instances(load_instances(Path(suite)), ",".join(patterns) or None, None)
        name = Path(suite).name
        err.print(
            f"[bold]autodev eval validate[/] {esc(name)}: {len(instances)} SWE-bench instance(s), oracle and null"
        )
        rows = validate_swebench(instances, repos, jobs=jobs, on_result=progress)
    else:
        the_suite = load_suite(suite)
        name, skipped = the_suite.name, the_suite.skipped
        tasks = select_tasks(the_suite, patterns)
        err.print(f"[bold]autodev eval validate[/] {esc(name)}: {len(tasks)} task(s), oracle and null")
        _print_skipped(skipped)
        rows = validate(tasks, jobs=jobs, on_result=progress)
    flagged = [row["task"] for row in rows if row["flags"]]
    if as_json:
        print_json(
            {
                "suite": name,
                "tasks": rows,
                "flagged": flagged,
                "ok": not flagged,
                "skipped_languages": [{"language": lang, "reason": why} for lang, why in skipped],
            }
        )
    else:
        out.print(f"{'task':<30} {'category':<9} {'class':<8} {'oracle':>8} {'null':>8}  flags")
        for row in rows:
            oracle, null = row["oracle"], row["null"]
            change = (oracle or null).get("change_type") or "-"
            out.print(
                f"{esc(row['task']):<30} {row['category']:<9} {change:<8} {_tests(oracle):>8} {_tests(null):>8}  "
                + (f"[red]{esc(', '.join(row['flags']))}[/]" if row["flags"] else "[green]ok[/]")
            )
        verdict = f"[red]{len(flagged)} flagged[/]" if flagged else "[green]every task is fair[/]"
        out.print(f"{len(rows)} task(s): {verdict}")
    if flagged:
        raise SystemExit(1)


def _print_skipped(skipped: Sequence[tuple[str, str]]) -> None:
    for language, why in skipped:
        err.print(f"[yellow]skipped {esc(language)}[/]: {esc(why)}")


def _tests(brief: Mapping[str, Any] | None) -> str:
    if brief is None:
        return "-"
    total = brief["tests_total"]
    return f"{brief['tests_passed']}/{total if total is not None else '?'}"


# ---------------------------------------------------------------- report
@eval_group.command("report")
@click.argument("results_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("results_b", type=click.Path(file_okay=False, exists=True, path_type=Path), required=False)
@json_option
def report_cmd(results_a: Path, results_b: Path | None, as_json: bool) -> None:
    """Summarise one result set (a --out directory), or compare two and list the tasks that flipped."""
    from autodev.apps.eval.results import compare, load_results, summarize
    from autodev.core.errors import UserError

    a = load_results(results_a)
    if not a:
        raise UserError(f"no eval results in {results_a}", hint="point at the --out directory of autodev eval")
    if results_b is None:
        summary = summarize(a).to_json()
        if as_json:
            print_json({"results": str(results_a), "summary": summary, "tasks": a})
            return
        _print_results(a)
        _print_summary(summary)
        if any(r.get("format") == "polyglot" for r in a):
            from autodev.apps.eval.polyglot.figures import headline

            _print_headline(headline(a).to_json())
        return
    b = load_results(results_b)
    if not b:
        raise UserError(f"no eval results in {results_b}", hint="point at the --out directory of autodev eval")
    comparison = compare(a, b)
    if as_json:
        print_json({"a": str(results_a), "b": str(results_b), **comparison})
        return
    _print_comparison(comparison, results_a, results_b)


# ---------------------------------------------------------------- printing
def _result_line(result: Mapping[str, Any]) -> str:
    word = {"passed": "[green]PASS[/]", "failed": "[red]FAIL[/]"}.get(result["status"], "[red]ERROR[/]")
    total = result["tests_total"]
    tokens = result["tokens"]
    line = (
        f"{esc(str(result['task'])):<28} {word}  {result['tests_passed']}/{total if total is not None else '?'} tests"
        f"  {result['wall_s']:.1f} s  {tokens['input'] + tokens['output']:,} tok  {money(result['cost_usd'])}"
    )
    note = result.get("error") or (result.get("grade") or {}).get("note")
    return line + (f"  [dim]{esc(str(note))[:120]}[/]" if note and not result["passed"] else "")


def _print_results(results: Sequence[Mapping[str, Any]]) -> None:
    out.print(
        f"{'task':<28} {'trial':>5} {'result':<6} {'tests':>7} {'wall s':>7} {'in':>9} {'out':>8} "
        f"{'cache r':>8} {'cache w':>8} {'cost':>9}"
    )
    for r in results:
        total = r["tests_total"]
        tokens = r["tokens"]
        word = {"passed": "PASS", "failed": "FAIL"}.get(r["status"], "ERROR")
        tests = f"{r['tests_passed']}/{total if total is not None else '?'}"
        out.print(
            f"{esc(str(r['task'])):<28} {r['trial']:>5} {word:<6} {tests:>7} {r['wall_s']:>7.1f} "
            f"{tokens['input']:>9,} {tokens['output']:>8,} {tokens['cache_read']:>8,} {tokens['cache_write']:>8,} "
            f"{money(r['cost_usd']):>9}"
        )


def _rate(summary: Mapping[str, Any]) -> str:
    if summary["solved_rate"] is None:
        return "no results"
    low, high = summary["solved_rate_95ci"]
    return f"{summary['solved']}/{summary['results']} = {summary['solved_rate']:.1%} (95% CI {low:.1%}–{high:.1%})"


def _print_summary(summary: Mapping[str, Any]) -> None:
    tokens = summary["tokens"]
    out.print(f"\n[bold]solved[/]  {_rate(summary)}; first try {summary['solved_first_try']}/{summary['results']}")
    if summary["errors"]:
        out.print(f"[yellow]{summary['errors']} result(s) crashed inside the pipeline (counted as not solved)[/]")
    out.print(f"time    median {summary['median_wall_s']:.1f} s, p95 {summary['p95_wall_s']:.1f} s per task")
    out.print(
        f"tokens  in {tokens['input']:,}, out {tokens['output']:,}, cache read {tokens['cache_read']:,}, "
        f"cache write {tokens['cache_write']:,}"
    )
    unpriced = summary["unpriced_results"]
    note = f" ({unpriced} result(s) used a model without a price: left out)" if unpriced else ""
    out.print(
        f"cost    {money(summary['cost_usd'])} total, {money(summary['cost_per_task_usd'])} per task, "
        f"{money(summary['cost_per_solved_usd'])} per solved task{note}"
    )
    if summary["agents"]:
        out.print(f"\n{'agent':<18} {'runs':>5} {'time s':>8} {'in':>10} {'out':>9} {'cost':>9}")
        for name, row in summary["agents"].items():
            if not row["runs"]:
                out.print(f"[dim]{name:<18} {0:>5}  skipped in every run[/]")
                continue
            out.print(
                f"{name:<18} {row['runs']:>5} {row['duration_s']:>8.1f} {row['input_tokens']:>10,} "
                f"{row['output_tokens']:>9,} {money(row['cost_usd']):>9}"
            )


def _print_headline(figures: Mapping[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    out.print(
        f"\n[bold]polyglot[/]  pass rate try 1 {pct(figures['pass_rate_1'])}, "
        f"after try 2 {pct(figures['pass_rate_2'])}; "
        f"well-formed {pct(figures['well_formed'])}; cost {money(figures['cost_usd'])}"
    )
    for language, row in figures["per_language"].items():
        out.print(
            f"  {language:<11} {row['results']:>4}  try 1 {pct(row['pass_rate_1'])}  try 2 {pct(row['pass_rate_2'])}"
        )


def _print_comparison(comparison: Mapping[str, Any], a: Path, b: Path) -> None:
    out.print(f"A  {esc(str(a))}: solved {_rate(comparison['a'])}, cost {money(comparison['a']['cost_usd'])}")
    out.print(f"B  {esc(str(b))}: solved {_rate(comparison['b'])}, cost {money(comparison['b']['cost_usd'])}")
    for side in ("a", "b"):
        s = comparison[side]
        out.print(
            f"   {side.upper()}: median {s['median_wall_s']:.1f} s, p95 {s['p95_wall_s']:.1f} s, "
            f"tokens in {s['tokens']['input']:,} out {s['tokens']['output']:,}"
        )
    flipped = comparison["flipped"]
    out.print(f"\n{comparison['common_tasks']} task(s) in both; {len(flipped)} flipped")
    for row in flipped:
        arrow = "[green]fixed [/]" if row["now"] == "solved" else "[red]broken[/]"
        out.print(f"  {arrow} {esc(row['task'])}  A {row['a'][0]}/{row['a'][1]} -> B {row['b'][0]}/{row['b'][1]}")
    for side in ("a", "b"):
        only = comparison[f"only_in_{side}"]
        if only:
            out.print(f"[dim]only in {side.upper()}: {esc(', '.join(only))}[/]")


def _register() -> None:
    from autodev.apps.cli.eval_swebench import check_predictions_cmd, swebench_cmd

    eval_group.add_command(swebench_cmd)
    eval_group.add_command(check_predictions_cmd)


_register()
