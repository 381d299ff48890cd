"""The eval: every (task, trial) of a selection, resumable, one at a time or `jobs` at a time.

Each (task, trial) is `trial.run_task`; its result is written atomically to `<out>/<task>/<trial>.json`
(`results.write_result`) as soon as it finishes, so an interrupted eval resumes where it stopped.
`<out>/eval.json` records the configuration, and a resume into another configuration's results is refused.

A run that fails is still graded (a user gets its work-in-progress commit too) and its status is kept
beside the grade. A crash inside a run (a provider or a bug raising) is recorded as an `error` result
and the eval goes on; a `UserError` (bad configuration, no provider) stops the eval, since every task
would hit it; Ctrl-C stops it too, and what finished is on disk for the next run to resume from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.apps.eval.options import EvalOptions, OnResult, ProviderFactory
from autodev.apps.eval.results import SCHEMA, read_result, result_path, write_result
from autodev.apps.eval.tasks import Suite, Task
from autodev.apps.eval.trial import run_task
from autodev.config.settings import NO_PROVIDER_HINT, load_settings
from autodev.core.clock import iso, utc_now
from autodev.core.errors import UserError
from autodev.core.jsonio import write_json_atomic

MANIFEST = "eval.json"
DEFAULT_OPTIONS = EvalOptions()  # one shared instance: the options are frozen


@dataclass
class EvalRun:
    suite: Suite
    tasks: tuple[Task, ...]
    out: Path
    results: list[dict[str, Any]]
    resumed: int  # results already on disk when the eval started


def check_provider(opts: EvalOptions) -> None:
    """Refuse before anything is written when no provider is configured (flags, environment, --config)."""
    settings = load_settings(None, opts.cli)
    if settings.provider is None and not (opts.user_config or {}).get("provider"):
        raise UserError("autodev eval needs a model provider: none is configured", hint=NO_PROVIDER_HINT)


def check_manifest(out: Path, suite: Suite, opts: EvalOptions) -> None:
    """Record the eval's configuration in `<out>/eval.json`, or refuse to resume into another one's."""
    path = out / MANIFEST
    wanted = json.loads(json.dumps({"schema": SCHEMA, "suite": suite.name, **opts.manifest()}))  # as read back
    if path.is_file():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            existing = None
        if isinstance(existing, dict):
            differs = [key for key, value in wanted.items() if existing.get(key) != value]
            if differs:
                raise UserError(
                    f"{out} holds results of another eval configuration ({', '.join(differs)} differ)",
                    hint="pass another --out, or delete that directory to start over",
                )
            return
    write_json_atomic(path, {**wanted, "created_at": iso(utc_now())})


def run_eval(
    suite: Suite,
    tasks: Sequence[Task],
    out: Path,
    opts: EvalOptions = DEFAULT_OPTIONS,
    make_provider: ProviderFactory | None = None,
    on_result: OnResult | None = None,
) -> EvalRun:
    """Every (task, trial) without a finished result in `out`; then every result of the selection."""
    if opts.trials < 1 or opts.tries not in (1, 2) or opts.jobs < 1:
        raise UserError("trials and jobs must be at least 1, and tries 1 or 2")
    if make_provider is None:
        check_provider(opts)
    out.mkdir(parents=True, exist_ok=True)
    check_manifest(out, suite, opts)
    units = [(task, trial) for task in tasks for trial in range(1, opts.trials + 1)]
    todo = [(task, trial) for task, trial in units if read_result(result_path(out, task.name, trial)) is None]

    def one(task: Task, trial: int) -> dict[str, Any]:
        result = run_task(task, trial, opts, make_provider, out)
        write_result(out, result)  # in the worker: a finished task is on disk even if the eval is interrupted
        return result

    run_units(todo, one, opts.jobs, on_result)
    results = [r for task, trial in units if (r := read_result(result_path(out, task.name, trial))) is not None]
    return EvalRun(suite, tuple(tasks), out, results, len(units) - len(todo))


def run_units(
    units: Sequence[tuple[Task, int]],
    work: Callable[[Task, int], dict[str, Any]],
    jobs: int,
    on_result: OnResult | None,
) -> list[dict[str, Any]]:
    """Run the units one at a time (jobs=1, in this thread: Ctrl-C stops at once) or `jobs` at a time."""
    done: list[dict[str, Any]] = []
    if jobs == 1 or len(units) <= 1:
        for task, trial in units:
            done.append(work(task, trial))
            if on_result is not None:
                on_result(done[-1])
        return done
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="autodev-eval")
    try:
        futures: list[Future[dict[str, Any]]] = [pool.submit(work, task, trial) for task, trial in units]
        for future in as_completed(futures):
            done.append(future.result())
            if on_result is not None:
                on_result(done[-1])
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # running tasks finish and are written; none start
        raise
    pool.shutdown(wait=True)
    return done
