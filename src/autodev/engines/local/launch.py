"""The operations behind the CLI commands, as plain functions the CLI and tests both call.

Each validates everything first (`prepare`, `build_provider`) and only then writes: bad input
leaves the user's repository exactly as it was.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import anyio

from autodev.config.providers import build_provider
from autodev.config.settings import NO_PROVIDER_HINT, CliOverrides
from autodev.core import gitops
from autodev.core.errors import RunInterrupted, UserError
from autodev.core.locks import holder, run_lock_path
from autodev.core.redact import redact
from autodev.engines.local.follow_up import FollowUp
from autodev.engines.local.run import LocalRun
from autodev.models import ModelProvider
from autodev.models.registry import replay_queue
from autodev.run.approval import APPROVED, REJECTED, Approver, pending_point
from autodev.run.estimate import unpriced_models
from autodev.run.events import Reporter, silent
from autodev.run.graph import ISSUE_PIPELINE
from autodev.run.layout import RunPaths, find_run, load_state
from autodev.run.plan import RunPlan, overrides_from_options, prepare
from autodev.run.state import RunState, StateStore

ISSUE_SECTIONS = ("## Problem", "## Proposal", "## Acceptance criteria")


@dataclass(frozen=True)
class RunResult:
    state: RunState
    run_dir: Path


def execute(
    plan: RunPlan,
    provider: ModelProvider,
    reporter: Reporter = silent,
    *,
    use_worktree: bool = True,
    run_id: str | None = None,
    resume: RunState | None = None,
    approver: Approver | None = None,
    follow_up: FollowUp | None = None,
) -> tuple[LocalRun, RunState]:
    unserved = [name for name, resolved in plan.models.items() if resolved.model_id is None]
    if unserved:  # before any write: without a configured provider, no tier has a model id
        who = ", ".join(unserved)
        raise UserError(f"no model provider is configured: no model serves {who}", hint=NO_PROVIDER_HINT)
    unpriced = unpriced_models(plan) if plan.settings.max_cost_usd is not None else []
    if unpriced:  # a cap cannot bound a call whose price it does not know
        first = unpriced[0]
        raise UserError(
            f"max_cost_usd needs a price for every model, and {', '.join(unpriced)} has none",
            hint=f'add [prices."{first}"] input = ..., output = ... (USD per million tokens) to .autodev/config.toml, '
            "or run without a cost cap",
        )
    orchestrator = LocalRun(
        plan,
        provider,
        reporter,
        run_id=run_id,
        use_worktree=use_worktree,
        resume=resume,
        follow_up=follow_up,
        approver=approver,
    )
    orchestrator.setup()
    try:
        state = anyio.run(orchestrator.run)
    except KeyboardInterrupt:
        raise RunInterrupted(
            f"interrupted: run {orchestrator.run_id} stopped, its state is saved",
            hint=f"go on with: autodev resume {orchestrator.run_id} --repo {plan.repo}"
            if use_worktree
            else "run it again",
        ) from None
    return orchestrator, state


def run_feature(
    request: str,
    repo: Path,
    cli: CliOverrides = CliOverrides(),
    reporter: Reporter = silent,
    provider: ModelProvider | None = None,
) -> RunResult:
    web = provider.web_search if provider is not None else None
    plan = prepare(request, repo, cli, web_search=web)
    provider = provider or build_provider(plan.settings)
    orchestrator, state = execute(plan, provider, reporter)
    return RunResult(state, orchestrator.paths.run_dir)


def load_stopped_run(run_id: str, repo_path: Path) -> RunState:
    """The saved state of a run that can be resumed, or a clear error saying why it can't."""
    repo = gitops.find_repo(repo_path)
    run_dir = find_run(repo, run_id)
    state = load_state(run_dir)  # UserError when it is not a run's state
    pid = holder(run_lock_path(run_dir))
    if pid is not None:
        who = f"process {pid}" if pid > 0 else "another process"
        raise UserError(f"run {state.run_id} is still running ({who})", hint="wait for it, or stop that process first")
    if state.status == "done":
        raise UserError(f"run {state.run_id} is already done", hint=f"its result is branch {state.branch or '(none)'}")
    if not state.branch:
        raise UserError(f"run {state.run_id} drafted an issue, which is not resumable", hint="run autodev issue again")
    return state


def resume_plan(
    run_id: str, repo: Path, web_search: bool | None = None, *, max_cost: float | None = None
) -> tuple[RunPlan, RunState]:
    """The plan of a stopped run, prepared again from its saved request and command-line options.

    It uses the current configuration files and environment (where the API keys live), but the
    run's own base commit, and refuses a pipeline that no longer matches the run's agents.
    `max_cost`: a new cost cap (`resume --max-cost`), kept in the run's options for later resumes.
    """
    state = load_stopped_run(run_id, repo)
    if max_cost is not None:
        state.options["max_cost"] = max_cost
    cli, selection = overrides_from_options(state.options)
    plan = prepare(state.request, Path(state.repo), cli, selection=selection, web_search=web_search)
    approve = tuple(str(point) for point in state.options.get("approve") or ())
    plan = dataclasses.replace(plan, base_commit=state.base_commit, approve=approve)
    if set(plan.pipeline.names) != set(state.agents):
        raise UserError(
            f"the pipeline changed since run {state.run_id} started: it had {', '.join(state.agents)}, "
            f"now {', '.join(plan.pipeline.names)}",
            hint="restore the [pipeline] configuration the run started with, or start a new run",
        )
    return plan, state


def skip_replayed(provider: ModelProvider, state: RunState) -> None:
    """A scripted model replays by position: skip what the stopped run's agents already got."""
    queue = replay_queue(provider)
    if queue is not None:
        queue.skip_runs({name: agent.ended_runs for name, agent in state.agents.items()})


def resume_run(
    run_id: str,
    repo: Path,
    reporter: Reporter = silent,
    provider: ModelProvider | None = None,
    *,
    max_cost: float | None = None,
    approver: Approver | None = None,
) -> RunResult:
    """Go on with a stopped run (killed, interrupted, failed or stopped at its cost cap) from its newest
    checkpoint; `max_cost` raises (or sets) its cost cap."""
    web = provider.web_search if provider is not None else None
    plan, state = resume_plan(run_id, repo, web, max_cost=max_cost)
    provider = provider or build_provider(plan.settings)
    skip_replayed(provider, state)
    orchestrator, state = execute(plan, provider, reporter, resume=state, approver=approver)
    return RunResult(state, orchestrator.paths.run_dir)


def answer_approval(run_id: str, repo: Path, *, reject: bool) -> str:
    """Record the user's answer to the approval a stopped run waits for (`autodev approve`); the point answered."""
    state = load_stopped_run(run_id, repo)
    point = pending_point(state.approvals)
    if state.status != "awaiting-approval" or point is None:
        raise UserError(
            f"run {state.run_id} is not awaiting approval (it is {state.status})",
            hint=f"go on with it: autodev resume {state.run_id}",
        )
    state.approvals[point] = REJECTED if reject else APPROVED
    StateStore(RunPaths.for_run(Path(state.repo), state.run_id).state_file, state).save()
    return point


@dataclass(frozen=True)
class IssueResult:
    state: RunState
    draft_path: Path | None
    url: str | None
    missing_sections: tuple[str, ...]


def run_issue(
    idea: str,
    repo: Path,
    cli: CliOverrides = CliOverrides(),
    reporter: Reporter = silent,
    provider: ModelProvider | None = None,
    *,
    create: bool = False,
) -> IssueResult:
    """researcher-local then issue-creator, read-only on the user's checkout; the draft goes to the run dir."""
    web = provider.web_search if provider is not None else None
    plan = prepare(idea, repo, cli, pipeline=ISSUE_PIPELINE, web_search=web)
    if create:
        _check_gh(plan.repo)
    provider = provider or build_provider(plan.settings)
    orchestrator, state = execute(plan, provider, reporter, use_worktree=False)
    draft = state.agents["issue-creator"].handoff if state.status == "done" else None
    if not draft:
        return IssueResult(state, None, None, ())
    path = orchestrator.paths.run_dir / "issue.md"
    path.write_text(redact(draft.strip()) + "\n", encoding="utf-8")
    missing = tuple(s for s in ISSUE_SECTIONS if s.lower() not in draft.lower())
    url = _create_with_gh(plan.repo, path) if create and not missing else None
    return IssueResult(state, path, url, missing)


def _check_gh(repo: Path) -> None:
    if shutil.which("gh") is None:
        raise UserError(
            "--create needs the GitHub CLI (gh), which is not installed",
            hint="install gh from https://cli.github.com and run `gh auth login`, or drop --create",
        )
    status = subprocess.run(["gh", "auth", "status"], cwd=repo, capture_output=True, text=True, timeout=30, check=False)
    if status.returncode != 0:
        raise UserError("--create needs a signed-in GitHub CLI", hint="run `gh auth login`, or drop --create")


def _create_with_gh(repo: Path, draft: Path) -> str:
    lines = draft.read_text(encoding="utf-8").splitlines()
    title = lines[0].lstrip("# ").strip() if lines else "autodev issue"
    body = "\n".join(lines[1:]).strip() + "\n"
    result = subprocess.run(
        ["gh", "issue", "create", "--title", title, "--body", body],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise UserError(f"gh issue create failed: {result.stderr.strip()}", hint=f"the draft is at {draft}")
    return result.stdout.strip()
