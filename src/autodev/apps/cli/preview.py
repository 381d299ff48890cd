"""Commands that show what autodev would do, calling no model: `agents` (each agent's model, tools and
write scope), `plan` (the stages a run would go through, and what it is estimated to cost) and `context`
(what retrieval would hand on).

Apart from the commands that run the pipeline because none of these starts a run, writes state or
needs a provider: they are safe to try on any repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape as esc

from autodev.agent.skills import load_skills, skill_prompt_tokens
from autodev.agent.specs import load_agents, wiring_hint
from autodev.apps.cli.common import (
    json_option,
    model_options,
    out,
    print_json,
    repo_option,
    selection_options,
    warn_ignored,
)
from autodev.config.settings import CliOverrides, load_settings, resolve_model
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.redact import redact, redact_data
from autodev.run.confinement import jail_line
from autodev.run.estimate import CostEstimate, for_plan
from autodev.run.plan import pipeline_agents, prepare
from autodev.run.plan_view import plan_json
from autodev.run.selection.decide import gate_outlook
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.toolset import agent_tools, available_tools


@click.command()
@repo_option
@json_option
@model_options
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the agents as Claude Code subagent files into DIR (e.g. ~/.claude/agents).",
)
@click.option("--builtin", is_flag=True, help="Only the agents autodev ships (with --export: the plugin's).")
def agents(
    repo: Path,
    as_json: bool,
    cli_overrides: CliOverrides,
    export_dir: Path | None,
    builtin: bool,
) -> None:
    """List the agents: name, tier, the model that will serve it, its tools and its file."""
    if export_dir is not None:
        _export(repo, export_dir, builtin, as_json)
        return
    try:
        root: Path | None = gitops.find_repo(repo)
    except UserError:
        if repo != Path("."):
            raise
        root = None  # outside any repository: built-in and user-level agents only
    settings = load_settings(root, cli_overrides)
    warn_ignored(settings.ignored_notes())
    skills = load_skills(root, skip=settings.untrusted_files())
    available = available_tools(settings, skills)
    skill_tokens = skill_prompt_tokens(skills)
    skill_info = {
        "index_tokens": skill_tokens["index"],
        "inlined_tokens": skill_tokens["inlined"],
        "names": list(skills),
    }
    rows: list[dict[str, Any]] = []
    specs = load_agents(root, skip=settings.untrusted_files())
    running = pipeline_agents(settings)
    for name, spec in sorted(specs.items()):
        resolved = resolve_model(spec, settings)
        given = agent_tools(spec, settings, available)
        rows.append(
            {
                "name": name,
                "tier": resolved.tier,
                "model": resolved.model_id,
                "model_source": resolved.source,
                "tools": sorted(given.tools),
                "write_scope": given.scope.describe(),
                "unavailable_tools": list(spec.unavailable_tools()),
                "file": str(spec.source),
                "description": spec.description,
                "in_pipeline": name in running,  # some pipeline runs it (the feature one, or `autodev issue`'s)
            }
        )
    if as_json:
        print_json({"provider": settings.provider, "agents": rows, "skills": skill_info})
        return
    out.print(f"provider: {settings.provider or 'none configured'} ({esc(str(settings.sources.get('provider')))})")
    out.print("[dim]● run by a pipeline   ○ loaded, but no pipeline runs it[/]")
    for row in rows:
        model = row["model"] or "(no provider)"
        mark = "●" if row["in_pipeline"] else "[yellow]○[/]"
        tools = ", ".join(row["tools"]) or "-"
        out.print(f"{mark} [bold]{row['name']:<17}[/] {row['tier']:<8} {esc(model):<22} {tools}")
        extra = f"  (not offered here: {', '.join(row['unavailable_tools'])})" if row["unavailable_tools"] else ""
        out.print(f"    [dim]{esc(row['file'] + extra)}[/]")
        if not row["in_pipeline"]:
            out.print(f"    [yellow]{esc(wiring_hint(row['name']))}; see docs/agents.md[/]")
    out.print(
        f"skills: {len(skills)} ({esc(', '.join(skills)) or 'none'}); system prompt "
        f"{skill_tokens['index']:,} tokens as an index vs {skill_tokens['inlined']:,} with every body inlined"
    )


def _export(repo: Path, dest: Path, builtin: bool, as_json: bool) -> None:
    """`agents --export DIR`: the agents this repository would use (or only the built-in ones) for Claude Code."""
    from autodev.agent.export import builtin_agents, export_agents

    if builtin:
        specs = builtin_agents()
    else:
        root = gitops.find_repo(repo) if repo != Path(".") else _repo_or_none()
        settings = load_settings(root)
        specs = load_agents(root, skip=settings.untrusted_files())
    written = export_agents(specs, dest)
    if as_json:
        print_json({"exported": [str(path) for path in written]})
        return
    out.print(f"{len(written)} agent file(s) written to {esc(str(dest))}: {', '.join(sorted(specs))}")


def _repo_or_none() -> Path | None:
    try:
        return gitops.find_repo(Path("."))
    except UserError:
        return None  # outside any repository: built-in and user-level agents only


def _print_cost(cost: CostEstimate, cap: float | None) -> None:
    """The estimate, labelled with where it comes from, and how it compares with the cost cap."""
    out.print(f"estimated cost: {esc(cost.describe())}")
    if cap is None:
        return
    over = cost.p95_usd is not None and cost.p95_usd > cap
    note = "; the run may stop there (autodev resume --max-cost raises it)" if over else ""
    out.print(f"cost cap: ${cap:.4f} (max_cost_usd){note}", style="yellow" if over else None)


@click.command()
@click.argument("request")
@repo_option
@json_option
@model_options
@selection_options
def plan(
    request: str,
    repo: Path,
    as_json: bool,
    cli_overrides: CliOverrides,
    selection: SelectionOverrides,
) -> None:
    """Show what a run would do, without calling any model."""
    the_plan = prepare(request, repo, cli_overrides, selection=selection, require_jail=False)
    warn_ignored([*the_plan.settings.ignored_notes(), *the_plan.unused_agent_notes()])
    cost = for_plan(the_plan)
    if as_json:
        print_json(redact_data(plan_json(the_plan, cost)))
        return
    settings = the_plan.settings
    out.print(f"request: {esc(redact(the_plan.request))}")
    out.print(f"change type: [bold]{the_plan.selection.change_type}[/]")
    for reason in the_plan.selection.reasons:
        out.print(f"  [dim]because {esc(redact(reason))}[/]")
    if outlook := the_plan.after_plan_outlook():
        out.print(f"  [dim]{esc(outlook)}[/]")
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
            out.print(f"  [dim]then the orchestrator runs the tests: {esc(redact(command))}{outlook}[/]")
            if the_plan.tests is not None:
                out.print(f"  [dim]in the environment of {esc(redact(the_plan.tests.describe()))}[/]")
    out.print(f"jail: {esc(jail_line(settings))}")
    _print_cost(cost, settings.max_cost_usd)
    if the_plan.dirty_paths:
        out.print(
            f"[yellow]note: {len(the_plan.dirty_paths)} uncommitted change(s) in your checkout would not be "
            "part of the run (it starts from HEAD)[/]"
        )


@click.command("context")
@click.argument("request")
@click.option("--budget", type=click.IntRange(min=1), default=4000, show_default=True, help="Token budget.")
@click.option("--paths-only", is_flag=True, help="Only the chosen files: score, tokens and path, no snippets.")
@repo_option
@json_option
def context_cmd(request: str, budget: int, paths_only: bool, repo: Path, as_json: bool) -> None:
    """Retrieve the code most relevant to REQUEST, packed as snippets within --budget tokens, and print them."""
    from autodev.agent.context.retrieval import build_context
    from autodev.core.gitops import find_repo

    pack = build_context(find_repo(repo), request, budget)
    if as_json:
        from autodev.apps.cli.context_view import pack_json

        print_json(redact_data(pack_json(pack, paths_only=paths_only)))  # a snippet may hold a committed key
        return
    from autodev.apps.cli.context_view import print_pack

    print_pack(pack, paths_only=paths_only)
