"""The `autodev` command: parse, call one function, print. `main(argv) -> int` is tested in-process."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.markup import escape as esc

from autodev import __version__
from autodev.agent.specs import load_agents
from autodev.apps.cli.batch import batch, status
from autodev.apps.cli.bench import bench
from autodev.apps.cli.common import (
    err,
    json_option,
    model_options,
    out,
    overrides,
    print_json,
    repo_option,
    selection_flags,
    selection_options,
)
from autodev.apps.cli.eval import eval_group
from autodev.apps.cli.progress import make_progress
from autodev.apps.cli.report import report
from autodev.apps.cli.temporal import worker
from autodev.apps.report.overlap import stage_timings
from autodev.config.settings import load_settings, resolve_model
from autodev.core.errors import AutodevError, UserError
from autodev.core.redact import redact_data
from autodev.run.plan import RunPlan, prepare
from autodev.run.selection.decide import gate_outlook
from autodev.run.state import RunState


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodev")
def cli() -> None:
    """Carry a feature request through a pipeline of specialised agents to a tested change on a branch."""


# ---------------------------------------------------------------- agents
@cli.command()
@repo_option
@json_option
@model_options
def agents(
    repo: Path,
    as_json: bool,
    provider: str | None,
    models: tuple[str, ...],
    max_parallel: int | None,
    script: str | None,
) -> None:
    """List the agents: name, tier, the model that will serve it, its tools and its file."""
    from autodev.core import gitops

    try:
        root: Path | None = gitops.find_repo(repo)
    except UserError:
        if repo != Path("."):
            raise
        root = None  # outside any repository: built-in and user-level agents only
    settings = load_settings(root, overrides(provider, models, max_parallel, script))
    from autodev.agent.skills import SkillTool, load_skills, skill_prompt_tokens
    from autodev.run.toolset import configured_tools, scope_for, tools_for_agent

    available = configured_tools(settings)
    skills = load_skills(root)
    if skills:
        available["Skill"] = SkillTool(skills)
    skill_tokens = skill_prompt_tokens(skills)
    skill_info = {
        "index_tokens": skill_tokens["index"],
        "inlined_tokens": skill_tokens["inlined"],
        "names": list(skills),
    }
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
        print_json({"provider": settings.provider, "agents": rows, "skills": skill_info})
        return
    out.print(f"provider: {settings.provider or 'none configured'} ({esc(str(settings.sources.get('provider')))})")
    for row in rows:
        model = row["model"] or "(no provider)"
        out.print(f"[bold]{row['name']:<17}[/] {row['tier']:<8} {esc(model):<22} {', '.join(row['tools']) or '-'}")
        extra = f"  (not offered here: {', '.join(row['unavailable_tools'])})" if row["unavailable_tools"] else ""
        out.print(f"  [dim]{esc(row['file'] + extra)}[/]")
    out.print(
        f"skills: {len(skills)} ({esc(', '.join(skills)) or 'none'}); system prompt "
        f"{skill_tokens['index']:,} tokens as an index vs {skill_tokens['inlined']:,} with every body inlined"
    )


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
@repo_option
@json_option
@model_options
@selection_options
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
    clioverrides = overrides(provider, models, max_parallel, script)
    the_plan = prepare(request, repo, clioverrides, selection=selection_flags(full, skip, only))
    if as_json:
        print_json(_plan_json(the_plan))
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
        diff = state.diff.to_json() if state.diff else {}
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
    if state.status != "done" and state.branch:
        out.print(f"[yellow]resume[/]         autodev resume {state.run_id} --repo {esc(state.repo)}")


@cli.command()
@click.argument("request")
@repo_option
@json_option
@model_options
@selection_options
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
    from autodev.config.providers import build_provider
    from autodev.engines.local.launch import execute

    clioverrides = overrides(provider, models, max_parallel, script)
    the_plan = prepare(request, repo, clioverrides, selection=selection_flags(full, skip, only))
    model_provider = build_provider(the_plan.settings)
    if the_plan.dirty_paths:
        err.print(
            f"[yellow]note: your checkout has {len(the_plan.dirty_paths)} uncommitted change(s); the run "
            "starts from HEAD, so they are not part of it (and are left untouched)[/]"
        )
    with make_progress(err) as progress:
        orchestrator, state = execute(the_plan, model_provider, progress)
    _finish_run(state, orchestrator.paths.run_dir, as_json)


@cli.command()
@click.argument("run_id")
@repo_option
@json_option
def resume(run_id: str, repo: Path, as_json: bool) -> None:
    """Go on with a killed, interrupted or failed run from its newest checkpoint; finished agents are not re-run."""
    from autodev.engines.local.launch import resume_run

    with make_progress(err) as progress:
        result = resume_run(run_id, repo, progress)
    _finish_run(result.state, result.run_dir, as_json)


def _finish_run(state: RunState, run_dir: Path, as_json: bool) -> None:
    if as_json:
        print_json(redact_data(state.to_json()))
    else:
        _print_outcome(state, run_dir)
    if state.status != "done":
        raise SystemExit(1)


# ---------------------------------------------------------------- demo
@cli.command()
@json_option
@click.option("--max-parallel", type=click.IntRange(min=1), default=None, help="Agents running at once.")
def demo(as_json: bool, max_parallel: int | None) -> None:
    """Run the full pipeline on a bundled example project, with scripted model replies (no API key)."""
    from autodev.apps.demo import DEMO_REQUEST, run_demo

    err.print("[bold]autodev demo[/]: the full pipeline on a small example project (textkit).")
    err.print(
        "[yellow]The model's replies are scripted[/] (autodev/apps/demo/script.yaml), so no API key is needed; "
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
@repo_option
@json_option
@model_options
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
    from autodev.engines.local.launch import run_issue

    with make_progress(err) as progress:
        result = run_issue(idea, repo, overrides(provider, models, max_parallel, script), progress, create=create)
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


# ---------------------------------------------------------------- clean
@cli.command()
@click.argument("run_ids", nargs=-1)
@click.option("--purge", is_flag=True, help="Also delete run directories and the branches of done runs.")
@click.option("--force", is_flag=True, help="Also clean killed or interrupted runs (a live run is never touched).")
@repo_option
@json_option
def clean(run_ids: tuple[str, ...], purge: bool, force: bool, repo: Path, as_json: bool) -> None:
    """Remove finished runs' worktrees (and, with --purge, their branches and run directories)."""
    from autodev.core import gitops
    from autodev.run.cleanup import clean as clean_runs

    result = clean_runs(gitops.find_repo(repo), list(run_ids) or None, purge=purge, force=force)
    if as_json:
        print_json(vars(result))
        return
    out.print(
        f"removed {len(result.worktrees)} worktree(s), {len(result.branches)} branch(es), "
        f"{len(result.run_dirs)} run director(y/ies)"
    )
    for patch in result.patches:
        out.print(f"saved uncommitted work to {esc(patch)}")
    for line in result.kept:
        out.print(f"[dim]kept {esc(line)}[/]")


@cli.command("context")
@click.argument("request")
@click.option("--budget", type=click.IntRange(min=1), default=4000, show_default=True, help="Token budget.")
@repo_option
@json_option
def context_cmd(request: str, budget: int, repo: Path, as_json: bool) -> None:
    """Retrieve the code most relevant to REQUEST, packed as snippets within --budget tokens."""
    from autodev.agent.context.retrieval import build_context
    from autodev.core.gitops import find_repo

    pack = build_context(find_repo(repo), request, budget)
    if as_json:
        print_json(pack.to_json())
        return
    out.print(f"[bold]autodev context[/]: {len(pack.files)} files, {pack.total_tokens:,} of {budget:,} tokens")
    for row in pack.files:
        out.print(f"{row['score']:>9.3f} {row['tokens']:>7,}  {esc(row['path'])}")


cli.add_command(report)
cli.add_command(batch)
cli.add_command(status)
cli.add_command(eval_group)
cli.add_command(bench)
cli.add_command(worker)


def _sigterm_as_ctrl_c(signum: int, frame: object) -> None:
    """`kill PID` stops a run the way Ctrl-C does: cleanly, with its state saved for `autodev resume`."""
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _sigterm_as_ctrl_c)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None) -> int:
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
