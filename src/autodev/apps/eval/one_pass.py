"""One pipeline run inside a task (a "pass"), as `autodev run` runs it, with a crash kept as a record.

A trial chains one or two passes (the retry is a second one). A crash inside a run must not stop the
eval, so it is kept here as an `error` pass, with what its state.json says the run did, and graded like
any other; only a configuration error or Ctrl-C goes through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from autodev.apps.eval.models import IMPLEMENTER
from autodev.apps.eval.options import EvalOptions, ProviderFactory
from autodev.apps.eval.tasks import Task
from autodev.config.providers import build_provider
from autodev.core.errors import UserError
from autodev.engines.local.launch import execute
from autodev.run.layout import load_state
from autodev.run.plan import prepare
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.state import RunState

INTERRUPTED_EXIT = 130  # autodev's exit code for a run stopped by Ctrl-C or SIGTERM


@dataclass
class Pass:
    """One pipeline run inside a task."""

    status: str  # done | failed | error
    wall_s: float
    run_id: str | None = None
    run_dir: Path | None = None
    commit: str | None = None
    error: str | None = None
    state: RunState | None = None


def _run_dirs(repo: Path) -> set[Path]:
    runs = repo / ".autodev" / "runs"
    return set(runs.iterdir()) if runs.is_dir() else set()


def run_pass(
    task: Task, repo: Path, request: str, opts: EvalOptions, make_provider: ProviderFactory | None, retry: bool
) -> Pass:
    selection = SelectionOverrides(only=(IMPLEMENTER,)) if retry else opts.selection
    before = _run_dirs(repo)
    clock = time.perf_counter()
    provider = make_provider(task) if make_provider is not None else None
    web = provider.web_search if provider is not None else None
    plan = prepare(request, repo, opts.cli, web_search=web, selection=selection)  # UserError: stops the eval
    try:
        _, state = execute(plan, provider or build_provider(plan.settings))
    except Exception as exc:  # the run crashed: record it, grade what it left, go on
        if isinstance(exc, UserError) or getattr(exc, "exit_code", None) == INTERRUPTED_EXIT:
            raise  # a configuration error stops the eval (every task would hit it); so does Ctrl-C
        wall = time.perf_counter() - clock
        new = sorted(_run_dirs(repo) - before)
        run_dir = new[-1] if new else None
        crashed = _load_state(run_dir)
        return Pass(
            status="error",
            wall_s=wall,
            run_id=run_dir.name if run_dir else None,
            run_dir=run_dir,
            commit=crashed.commit if crashed else None,
            error=describe_exception(exc),
            state=crashed,
        )
    wall = time.perf_counter() - clock
    run_dir = repo / ".autodev" / "runs" / state.run_id
    return Pass(state.status, wall, state.run_id, run_dir, state.commit, state.error, state)


def describe_exception(exc: BaseException) -> str:
    """`Type: message`, looking inside exception groups (a task group wraps what an agent raised)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe_exception(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def _load_state(run_dir: Path | None) -> RunState | None:
    if run_dir is None or not (run_dir / "state.json").is_file():
        return None
    try:
        return load_state(run_dir)
    except UserError:  # not (yet) a whole run's state
        return None
