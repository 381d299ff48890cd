"""Where an activity works: a fresh worktree of the worker's mirror clone, at the commit the workflow names.

Every activity has the same shape: heartbeat, fetch the run from its remote, check out `run.tip`,
build the plan from the repository's own configuration at that commit, rebuild the little state the
step needs from what the workflow sent (statuses, skip reasons, handoff texts), do the step exactly
as a local run does (`run.agent_step`, `run.gate`), and remove everything afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from temporalio import activity
from temporalio.exceptions import ApplicationError

from autodev.config.providers import base_provider
from autodev.config.settings import NO_PROVIDER_HINT, Settings, load_settings
from autodev.core.errors import UserError
from autodev.engines.temporal import transport
from autodev.engines.temporal.messages import RunRef
from autodev.models import Model, ModelProvider, ModelRequest, ModelResponse
from autodev.models.fakes.scripted import ScriptQueue
from autodev.models.registry import replay_queue
from autodev.run.layout import RunPaths
from autodev.run.plan import RunPlan, overrides_from_options, prepare
from autodev.run.state import AgentState, RunState

ProviderFactory = Callable[[Settings], ModelProvider]


def default_provider(settings: Settings) -> ModelProvider:
    """The provider the repository's configuration and the worker's environment (its API keys) name."""
    return base_provider(settings)


def script_queue(provider: object) -> ScriptQueue | None:
    """The reply queue of a scripted provider, however it is wrapped (`inner` attributes)."""
    return replay_queue(provider)


class NoModels:
    """The provider of steps that call no model (the test gate, finishing)."""

    name = "none"
    web_search = False

    def model(self, model_id: str) -> Model:
        return _NoModel(model_id)

    async def aclose(self) -> None:
        return None


@dataclass
class _NoModel:
    model_id: str
    provider: str = "none"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise AssertionError("this step calls no model")


@dataclass
class Worksite:
    mirror: transport.Mirror
    worktree: Path
    run_dir: Path
    attempt: int

    @property
    def paths(self) -> RunPaths:
        return RunPaths.scratch(self.run_dir, self.worktree)


def user_errors(error: UserError) -> ApplicationError:
    """A configuration problem no retry can fix: fail the step at once, with the message the user needs."""
    message = error.message + (f" ({error.hint})" if error.hint else "")
    return ApplicationError(message, type="UserError", non_retryable=True)


@contextlib.asynccontextmanager
async def worksite(workdir: Path, run: RunRef, label: str) -> AsyncIterator[Worksite]:
    """Heartbeats, then the run fetched and checked out at `run.tip`; everything removed afterwards."""
    attempt = activity.info().attempt

    async def beat() -> None:
        while True:
            activity.heartbeat(label)
            await asyncio.sleep(run.heartbeat_s)

    beating = asyncio.create_task(beat())
    mirror = transport.Mirror(workdir, run.remote)
    tag = f"{run.run_id}/{label}-a{attempt}-{secrets.token_hex(3)}"
    run_dir = workdir / "runs" / tag
    worktree: Path | None = None
    try:
        await anyio.to_thread.run_sync(mirror.fetch_run, run.run_id)
        worktree = await anyio.to_thread.run_sync(mirror.add_worktree, run.tip, tag)
        run_dir.joinpath("sessions").mkdir(parents=True, exist_ok=True)
        yield Worksite(mirror, worktree, run_dir, attempt)
    except UserError as exc:
        raise user_errors(exc) from exc
    finally:
        beating.cancel()
        with anyio.CancelScope(shield=True):
            if worktree is not None:
                await anyio.to_thread.run_sync(mirror.remove_worktree, worktree)
            shutil.rmtree(run_dir, ignore_errors=True)


def load_plan(
    request: str, worktree: Path, run: RunRef, factory: ProviderFactory | None, identity: str
) -> tuple[RunPlan, ModelProvider]:
    """The plan at this commit; with `factory`, the provider that serves its models (else `NoModels`)."""
    cli, selection = overrides_from_options(run.options)
    provider: ModelProvider = NoModels()
    web = None
    if factory is not None:
        provider = factory(load_settings(worktree, cli))
        web = provider.web_search
    approved = run.options.get("approved_digest")  # the client's user approved this content (docs/config.md, Trust)
    digest = approved if isinstance(approved, str) else None
    plan = dataclasses.replace(
        prepare(request, worktree, cli, selection=selection, web_search=web, approved_digest=digest),
        base_commit=run.base,
    )
    if factory is not None:
        unserved = [name for name, resolved in plan.models.items() if resolved.model_id is None]
        if unserved:
            raise UserError(f"no model provider is configured on worker {identity}", hint=NO_PROVIDER_HINT)
    return plan, provider


def rebuild_state(
    plan: RunPlan, run: RunRef, worktree: Path, statuses: dict[str, str], reasons: dict[str, str]
) -> RunState:
    """The little state one step needs: every agent's status (skip reasons), the run's ids and tip."""
    state = RunState(
        run_id=run.run_id,
        request=plan.request,
        repo=str(worktree),
        worktree=str(worktree),
        branch=f"autodev/{run.run_id}",
        base_commit=run.base,
    )
    state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
    state.options = dict(run.options)
    state.checkpoint = run.tip if run.tip != run.base else None
    for name in plan.pipeline.names:
        resolved = plan.models[name]
        state.agents[name] = AgentState(
            status=statuses.get(name, "pending"),  # type: ignore[arg-type]
            reason=reasons.get(name),
            tier=resolved.tier,
            model=resolved.model_id,
        )
    return state
