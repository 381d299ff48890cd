"""`autodev eval swebench` and `autodev eval check-predictions`: SWE-bench predictions for the official harness.

Apart from `cli/eval.py` (which registers these commands) to keep each module small; it parses,
calls `autodev.apps.eval.swebench` and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err, json_option, model_options, money, out, print_json, selection_options
from autodev.config.settings import CliOverrides
from autodev.run.selection.overrides import SelectionOverrides


@click.command("swebench")
@click.option(
    "--dataset",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="SWE-bench instances: .jsonl, or .parquet (needs the parquet extra).",
)
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where the predictions go (OUT.jsonl); rerunning resumes.",
)
@click.option(
    "--repos",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Local clones, named owner__repo or owner/repo (default: clone from GitHub once).",
)
@click.option("--instances", "ids", default=None, metavar="ID,...", help="Only these instance ids.")
@click.option("--slice", "part", default=None, metavar="A:B", help="Only the dataset's rows A to B-1.")
@click.option("--model-name", default="autodev", show_default=True, help="The predictions' model_name_or_path.")
@click.option(
    "--grade",
    type=click.Choice(["local"]),
    default=None,
    help="local: apply the test patch, run FAIL_TO_PASS/PASS_TO_PASS here (approximates the official harness).",
)
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Instances running at once.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An autodev config (TOML) applied to every instance.",
)
@json_option
@model_options
@selection_options
def swebench_cmd(
    dataset: Path,
    predictions: Path,
    repos: Path | None,
    ids: str | None,
    part: str | None,
    model_name: str,
    grade: str | None,
    jobs: int,
    config_file: Path | None,
    as_json: bool,
    cli_overrides: CliOverrides,
    selection: SelectionOverrides,
) -> None:
    """Run the pipeline on SWE-bench instances; write predictions the official harness evaluates.

    \b
    Each instance: its repository at base_commit (no later history), the pipeline on its
    problem_statement, the diff as model_patch. test_patch, FAIL_TO_PASS and PASS_TO_PASS never
    reach an agent. Cost and time per instance go to OUT.meta.jsonl, the runs to OUT.runs/.
    Then: python -m swebench.harness.run_evaluation --dataset_name DATASET --predictions_path OUT.jsonl --run_id ID
    """
    from autodev.apps.eval.harness import check_provider
    from autodev.apps.eval.options import EvalOptions
    from autodev.apps.eval.swebench.dataset import load_instances, select_instances
    from autodev.apps.eval.swebench.predictions import check_predictions_path, meta_path, validate_predictions
    from autodev.apps.eval.swebench.runner import SwebenchOptions, run_swebench, summary
    from autodev.apps.eval.workspace import load_user_config
    from autodev.core.errors import UserError

    check_predictions_path(predictions)
    if repos is not None and not repos.is_dir():
        raise UserError(f"--repos {repos} is not a directory", hint="a directory of clones named owner__repo")
    instances = load_instances(dataset.expanduser())
    chosen = select_instances(instances, ids, part)
    options = EvalOptions(
        jobs=jobs,
        cli=cli_overrides,
        selection=selection if selection != SelectionOverrides() else None,
        user_config=load_user_config(config_file) if config_file else None,
    )
    check_provider(options)
    opts = SwebenchOptions(predictions, model_name, repos, grade == "local", options)
    err.print(f"[bold]autodev eval swebench[/]: {len(chosen)} instance(s); predictions in {esc(str(predictions))}")

    def progress(meta: dict[str, Any]) -> None:
        err.print(f"  {_line(meta)}")

    outcome = run_swebench(chosen, opts, on_done=progress)
    if outcome.skipped:
        err.print(f"[dim]{len(outcome.skipped)} instance(s) were already in {esc(str(predictions))}: not run again[/]")
    problems = validate_predictions(predictions, {i.instance_id for i in instances}) if predictions.exists() else []
    figures = summary(outcome.done)
    if as_json:
        print_json(
            {
                "predictions": str(predictions),
                "meta": str(meta_path(predictions)),
                "summary": figures,
                "skipped": outcome.skipped,
                "format_problems": problems,
                "instances": outcome.done,
            }
        )
    else:
        _print_summary(figures, predictions, problems)
    if problems:
        raise SystemExit(1)


def _line(meta: dict[str, Any]) -> str:
    graded = meta.get("local_grade")
    word = ""
    if graded is not None:
        word = "[green]RESOLVED[/] " if graded["resolved"] else "[red]NOT RESOLVED[/] "
    return (
        f"{esc(meta['instance_id']):<40} {word}{meta['run_status']:<6} {meta['patch_lines']} patch lines  "
        f"{meta['wall_s']:.1f} s  {money(meta['cost_usd'])}"
    )


def _print_summary(figures: dict[str, Any], predictions: Path, problems: list[str]) -> None:
    from autodev.apps.eval.swebench.local_grade import LABEL

    out.print(
        f"{figures['instances']} instance(s) run: {figures['patches']} with a patch, {figures['errors']} crashed; "
        f"cost {money(figures['cost_usd'])}, {figures['wall_s']:.1f} s"
    )
    if figures["local_resolved"] is not None:
        out.print(f"local grade ({LABEL}): {figures['local_resolved']}/{figures['local_graded']} resolved")
    if problems:
        out.print("[red]the predictions file would not read in the official harness:[/]")
        for problem in problems[:20]:
            out.print(f"  {esc(problem)}")
    else:
        out.print(f"{esc(str(predictions))}: valid for swebench.harness.run_evaluation --predictions_path")


@click.command("check-predictions")
@click.argument("predictions", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--dataset",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Also check every instance id is in this dataset.",
)
@json_option
def check_predictions_cmd(predictions: Path, dataset: Path | None, as_json: bool) -> None:
    """Check a predictions file reads as the official SWE-bench harness reads it (exit 1 if not)."""
    from autodev.apps.eval.swebench.dataset import load_instances
    from autodev.apps.eval.swebench.predictions import validate_predictions

    ids = {i.instance_id for i in load_instances(dataset)} if dataset else None
    problems = validate_predictions(predictions, ids)
    if as_json:
        print_json({"predictions": str(predictions), "ok": not problems, "problems": problems})
    elif problems:
        for problem in problems:
            out.print(esc(problem))
    else:
        out.print(f"{esc(str(predictions))}: valid")
    if problems:
        raise SystemExit(1)
