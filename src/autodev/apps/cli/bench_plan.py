"""`autodev bench selection-plan`: the run's selection after the plan, measured with the configured model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err, json_option, out, print_json, warn_ignored
from autodev.config.settings import CliOverrides
from autodev.models.registry import provider_names

DEFAULT_SAMPLE = 200


@click.command("selection-plan")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=DEFAULT_SAMPLE,
    show_default=True,
    help="Commits drawn at random from FILE (0: all of them).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which sample.")
@click.option(
    "--answers",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The plans, one JSON line each: read first, appended to (default: FILE's name + .plans.jsonl, here).",
)
@click.option("--offline", is_flag=True, help="Ask no model: the figures from the answers file alone.")
@click.option(
    "--oracle",
    is_flag=True,
    help="Ask no model: every plan names exactly the files its commit changed (the most the plan can narrow).",
)
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True, help="Plans asked at once.")
@click.option("--provider", type=click.Choice(provider_names()), default=None, help="Model provider (default: config).")
@click.option("--model", "models", multiple=True, metavar="TIER=ID", help="Serve a tier with a model id.")
@json_option
def bench_selection_plan(
    file: Path,
    sample: int,
    seed: int,
    answers: Path | None,
    offline: bool,
    oracle: bool,
    concurrency: int,
    provider: str | None,
    models: tuple[str, ...],
    as_json: bool,
) -> None:
    """How many commits the plan sends down a fast path, and how often wrongly: the bundled planner's
    instructions on the configured model, one plan for each sampled commit (costs tokens; see --answers)."""
    from autodev.agent.specs import builtin_agents_dir, load_agent_file
    from autodev.apps.bench.selection_plan import answered_model, selection_plan_benchmark
    from autodev.apps.bench.selection_plan_ask import Asker
    from autodev.config.providers import build_provider
    from autodev.config.settings import load_settings
    from autodev.core import gitops
    from autodev.core.errors import UserError
    from autodev.models.pricing import load_price_table

    try:
        repo: Path | None = gitops.find_repo(Path("."))
    except UserError:
        repo = None  # outside any repository: user-level configuration and the environment
    settings = load_settings(repo, CliOverrides(provider=provider, models=models))
    warn_ignored(settings.ignored_notes())  # a repository's own base_url, say, until `autodev trust`
    planner = load_agent_file(builtin_agents_dir() / "planner.md")
    answers = answers or Path(f"{file.name}.plans.jsonl")
    tier = planner.tier or "balanced"
    model_id = settings.tiers.get(tier)
    asker = None
    if oracle:
        model_id = ""
    elif offline:
        model_id = model_id or answered_model(answers)
    else:
        settings.require_provider()
        assert model_id is not None  # a configured provider serves every tier
        asker = Asker(
            build_provider(settings),
            model_id,
            planner.prompt,
            load_price_table(settings.prices),
            concurrency=concurrency,
        )

    def asking(count: int) -> None:
        kept = esc(str(answers))
        err.print(f"asking {esc(model_id or '')} for {count:,} plans, {concurrency} at a time; each is kept in {kept}")

    result = selection_plan_benchmark(
        file, asker, model=model_id, answers=answers, sample=sample or None, seed=seed, on_asking=asking, oracle=oracle
    ).as_dict()
    if as_json:
        print_json(result)
        return
    _print(result, oracle)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _print(result: dict[str, Any], oracle: bool) -> None:
    overall = result["overall"]
    cost = "cost unknown" if result["cost_usd"] is None else f"${result['cost_usd']:.2f} for these plans"
    by = (
        "the oracle (plans that name exactly the files each commit changed; no model)"
        if oracle
        else (f"{esc(result['model'])} ({result['asked']:,} asked now, {cost})")
    )
    out.print(
        f"[bold]autodev bench selection-plan[/]: {result['sample']:,} of {result['records']:,} commits from "
        f"{esc(result['file'])} (seed {result['seed']}); {overall['planned']:,} planned by {by}"
    )
    if overall["unplanned"]:
        out.print(
            f"[yellow]{overall['unplanned']:,} commit(s) need a plan the answers file has not got: counted as not "
            "narrowed (run without --offline to ask for them)[/]"
        )
    out.print(f"\n{'':<26}{'fast paths':>11}{'changed code':>14}{'unsafe':>9}{'recall':>9}")
    rows = (
        ("by the request's words", overall["by_request"], overall["by_request_unsafe"], "request_unsafe_rate"),
        ("after the plan", overall["by_plan"], overall["by_plan_unsafe"], "plan_unsafe_rate"),
    )
    for label, fast, unsafe, rate in rows:
        out.print(f"{label:<26}{fast:>11,}{unsafe:>14,}{_pct(overall[rate]):>9}")
    fast = overall["by_request"] + overall["by_plan"]
    unsafe = overall["by_request_unsafe"] + overall["by_plan_unsafe"]
    out.print(
        f"{'the run (either)':<26}{fast:>11,}{unsafe:>14,}{_pct(overall['unsafe_rate']):>9}"
        f"{_pct(overall['recall']):>9}  of {overall['no_code']:,} no-code commits"
    )
    out.print(
        f"run level: {_pct(overall['unsafe_rate'])} of {fast:,} fast paths changed code (target <= 2%), recall "
        f"{_pct(overall['recall'])} of {overall['no_code']:,} no-code commits (target >= 50%): "
        + ("met" if overall["within_target"] else "NOT MET")
    )
    for repo, figures in result["per_repo"].items():
        out.print(
            f"  {esc(repo[:28]):<28} {figures['commits']:>5,} commits  unsafe {_pct(figures['unsafe_rate']):>6}  "
            f"recall {_pct(figures['recall']):>6} (by the words alone {_pct(figures['request_recall'])})"
        )
    out.print(
        "\nunsafe: of the commits sent down a fast path, the share that changed code (target <= 2%); recall: of "
        "the no-code commits, the share sent down one (target >= 50%). "
        + (
            "The oracle's figures bound what any planner reaches."
            if oracle
            else "The planner here sees the request and the file listing only (no research, no tools). "
            f"Plans: {esc(result['answers'])}"
        )
    )
