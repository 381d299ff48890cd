"""The eval harness: every (task, trial) through the real pipeline, graded on hidden tests, resumable.

One task, one trial (`run_task`):
1. a fresh temporary git repository with the starting project (`workspace.make_task_repo`);
2. the pipeline, as `autodev run` runs it (`prepare` + `execute`), with the user's provider and flags;
3. grading in a fresh copy (`grading.grade`) of the diff from the starting commit to the run's commit;
4. with `tries=2`, a failed grade goes back once: a second pass from the first one's commit, where only
   the implementer runs (the test gate after it still does), told the failing tests' output;
5. the figures (time, tokens, cost, per agent) from the runs' own metrics, and the result written
   atomically to `<out>/<task>/<trial>.json` (`results.write_result`).

A run that fails is still graded (a user gets its work-in-progress commit too) and its status is kept
beside the grade. A crash inside a run (a provider or a bug raising) is recorded as an `error` result
and the eval goes on; a `UserError` (bad configuration, no provider) stops the eval, since every task
would hit it; Ctrl-C stops it too, and what finished is on disk for the next run to resume from.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autodev.apps.eval.grading import Grade, grade
from autodev.apps.eval.models import IMPLEMENTER, null_provider, oracle_provider
from autodev.apps.eval.results import SCHEMA, read_result, result_path, write_result
from autodev.apps.eval.tasks import Suite, Task
from autodev.apps.eval.workspace import advance, diff_bytes, make_task_repo
from autodev.config.providers import build_provider
from autodev.config.settings import NO_PROVIDER_HINT, CliOverrides, load_settings
from autodev.core.clock import iso, utc_now
from autodev.core.errors import UserError
from autodev.core.jsonio import write_json_atomic
from autodev.core.records import read_metrics
from autodev.engines.local.launch import execute
from autodev.models import ModelProvider
from autodev.models.pricing import total_cost
from autodev.run.layout import load_state
from autodev.run.plan import prepare
from autodev.run.report import agent_rows
from autodev.run.selection.overrides import SelectionOverrides
from autodev.run.state import RunState

ProviderFactory = Callable[[Task], ModelProvider]
OnResult = Callable[[dict[str, Any]], None]
MANIFEST = "eval.json"
RETRY_OUTPUT_CHARS = 8000
INTERRUPTED_EXIT = 130  # autodev's exit code for a run stopped by Ctrl-C or SIGTERM
VALIDATE_CLI = CliOverrides(provider="scripted")  # tier model ids for models that need no provider


@dataclass(frozen=True)
class EvalOptions:
    trials: int = 1
    tries: int = 1
    jobs: int = 1
    cli: CliOverrides = field(default_factory=CliOverrides)
    selection: SelectionOverrides | None = None
    user_config: Mapping[str, Any] | None = None  # --config: merged into every task's autodev config
    keep: bool = False  # keep each task's temporary repository (its path is in the result)
    workdir: Path | None = None  # where the temporary repositories go (default: the system's temp dir)

    def manifest(self) -> dict[str, Any]:
        """What makes two result sets comparable: a resumed eval must not mix configurations."""
        return {
            "tries": self.tries,
            "cli": {"provider": self.cli.provider, "models": list(self.cli.models), "script": self.cli.script},
            "selection": asdict(self.selection) if self.selection else None,
            "config": dict(self.user_config) if self.user_config else None,
        }


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


def retry_request(request: str, graded: Grade) -> str:
    """The second try's request: the task, then what the hidden tests said about the first try."""
    output = graded.summary[-RETRY_OUTPUT_CHARS:]
    return (
        f"{request}\n\n## The acceptance tests failed\n"
        "Your change was checked with acceptance tests you cannot see, and they failed. Fix the code so "
        "they pass; they will be run again as they are. Their output:\n\n" + output
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "task"


def _run_dirs(repo: Path) -> set[Path]:
    runs = repo / ".autodev" / "runs"
    return set(runs.iterdir()) if runs.is_dir() else set()


def _run_pass(
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


def _agent_figures(passes: Sequence[Pass]) -> dict[str, dict[str, Any]]:
    """Per agent over all passes: runs, time, turns, tokens, cost (None when a model had no price)."""
    merged: dict[str, dict[str, Any]] = {}
    for one in passes:
        if one.run_dir is None:
            continue
        for row in agent_rows(read_metrics(one.run_dir / "metrics.jsonl")):
            entry = merged.setdefault(
                row.agent,
                {
                    "status": row.status, "skip_reason": row.skip_reason, "tier": row.tier, "model": row.model,
                    "runs": 0, "duration_s": 0.0, "turns": 0, "input_tokens": 0, "output_tokens": 0,
                    "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.0,
                },
            )  # fmt: skip
            if row.status == "skipped" and entry["runs"]:
                continue  # skipped in a later pass (the retry runs the implementer alone): keep what it did
            entry.update(status=row.status, skip_reason=row.skip_reason, model=row.model or entry["model"])
            entry["runs"] += row.runs
            entry["duration_s"] = round(entry["duration_s"] + row.duration_s, 6)
            entry["turns"] += row.turns
            for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
                entry[key] += getattr(row, key)
            if entry["cost_usd"] is None or row.cost_usd is None:
                entry["cost_usd"] = None
            else:
                entry["cost_usd"] = round(entry["cost_usd"] + row.cost_usd, 8)
    return dict(sorted(merged.items()))


def _grade(task: Task, patch: bytes, scratch: Path) -> Grade:
    """Grade, turning a failure of the grading machinery itself (git, the file system) into a failed grade."""
    try:
        return grade(task, patch, scratch)
    except (OSError, subprocess.SubprocessError) as exc:
        return Grade(False, 0, None, note=f"grading could not run: {describe_exception(exc)}")


def _archive(out: Path, task: Task, trial: int, passes: Sequence[Pass], patch: bytes) -> None:
    """Keep each run's state, metrics and sessions, and the graded diff, beside the result."""
    runs = out / task.name / f"{trial}.runs"
    if runs.exists():
        shutil.rmtree(runs)
    for one in passes:
        if one.run_dir is not None and one.run_dir.is_dir():
            shutil.copytree(one.run_dir, runs / one.run_dir.name)
    (out / task.name).mkdir(parents=True, exist_ok=True)
    (out / task.name / f"{trial}.diff").write_bytes(patch)


def run_task(
    task: Task,
    trial: int,
    opts: EvalOptions,
    make_provider: ProviderFactory | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """Run one (task, trial) and grade it; the result record (not yet written)."""
    started = utc_now()
    scratch = Path(tempfile.mkdtemp(prefix=f"autodev-eval-{_slug(task.name)}-", dir=opts.workdir))
    try:
        repo = scratch / _slug(task.name)
        base = make_task_repo(task, repo, opts.user_config)
        request, head = task.request, base
        tries: list[tuple[Pass, Grade]] = []
        patch = b""
        for attempt in range(1, opts.tries + 1):
            one = _run_pass(task, repo, request, opts, make_provider, retry=attempt > 1)
            head = one.commit or head
            patch = diff_bytes(repo, base, head)
            graded = _grade(task, patch, scratch / f"grade-{attempt}")
            tries.append((one, graded))
            if graded.passed or attempt == opts.tries:
                break
            if head != base:
                advance(repo, head)
            request = retry_request(task.request, graded)
        if out is not None:
            _archive(out, task, trial, [one for one, _ in tries], patch)
        return _result(task, trial, tries, started, scratch if opts.keep else None)
    finally:
        if not opts.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _result(
    task: Task, trial: int, tries: Sequence[tuple[Pass, Grade]], started: Any, kept: Path | None
) -> dict[str, Any]:
    passes = [one for one, _ in tries]
    last_pass, final = tries[-1]
    agents = _agent_figures(passes)
    tokens = {
        key: sum(int(row[f"{key}_tokens"]) for row in agents.values())
        for key in ("input", "output", "cache_read", "cache_write")
    }
    costs = [row["cost_usd"] for row in agents.values() if row["runs"]]
    cost = total_cost(*costs)
    cost = round(cost, 8) if cost is not None else None
    first_state = passes[0].state
    crashed = any(one.status == "error" for one in passes)
    return {
        "schema": SCHEMA,
        "task": task.name,
        "trial": trial,
        "category": task.category,
        "format": task.format,
        "passed": final.passed,
        "status": "passed" if final.passed else ("error" if crashed else "failed"),
        "tests_passed": final.tests_passed,
        "tests_total": final.tests_total,
        "timed_out": final.timed_out,
        "wall_s": round(sum(one.wall_s for one in passes), 3),
        "grade_s": round(sum(g.duration_s for _, g in tries), 3),
        "tokens": tokens,
        "cost_usd": cost,
        "agents": agents,
        "run_status": last_pass.status,
        "error": next((one.error for one in reversed(passes) if one.error), None),
        "change_type": dict(first_state.change_type) if first_state else None,
        "warnings": sorted({w for one in passes if one.state for w in one.state.warnings}),
        "tries": [
            {
                "run_id": one.run_id,
                "status": one.status,
                "error": one.error,
                "commit": one.commit,
                "wall_s": round(one.wall_s, 3),
                "passed": g.passed,
                "tests_passed": g.tests_passed,
                "tests_total": g.tests_total,
            }
            for one, g in tries
        ],
        "grade": final.to_json(),
        "workspace": str(kept) if kept else None,
        "started_at": iso(started),
        "ended_at": iso(utc_now()),
    }


# ------------------------------------------------------------------------ the eval
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
    opts: EvalOptions = EvalOptions(),
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

    _run_all(todo, one, opts.jobs, on_result)
    results = [r for task, trial in units if (r := read_result(result_path(out, task.name, trial))) is not None]
    return EvalRun(suite, tuple(tasks), out, results, len(units) - len(todo))


def _run_all(
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


# ------------------------------------------------------------------------ validate
def validate(
    tasks: Sequence[Task], jobs: int = 1, on_result: OnResult | None = None, workdir: Path | None = None
) -> list[dict[str, Any]]:
    """Each task with the oracle (must pass) and the null model (must fail); flags unfair tasks."""
    opts = EvalOptions(cli=VALIDATE_CLI, workdir=workdir)
    units: list[tuple[Task, int]] = []
    for task in tasks:
        if task.solution:
            units.append((task, 0))  # 0: oracle, 1: null
        units.append((task, 1))

    def one(task: Task, which: int) -> dict[str, Any]:
        factory: ProviderFactory = (
            (lambda t: oracle_provider(t.solution_texts())) if which == 0 else (lambda t: null_provider())
        )
        result = run_task(task, 1, opts, factory)
        result["model"] = "oracle" if which == 0 else "null"
        return result

    results = _run_all(units, one, jobs, on_result)
    rows = []
    for task in tasks:
        mine = {r["model"]: r for r in results if r["task"] == task.name}
        oracle, null = mine.get("oracle"), mine["null"]
        flags = []
        if oracle is None:
            flags.append("no reference solution")
        elif not oracle["passed"]:
            flags.append("oracle fails")
        if null["passed"]:
            flags.append("null passes")
        rows.append(
            {
                "task": task.name,
                "category": task.category,
                "oracle": _brief(oracle) if oracle else None,
                "null": _brief(null),
                "flags": flags,
            }
        )
    return rows


def _brief(result: Mapping[str, Any]) -> dict[str, Any]:
    change = result.get("change_type") or {}
    return {
        "passed": result["passed"],
        "tests_passed": result["tests_passed"],
        "tests_total": result["tests_total"],
        "run_status": result["run_status"],
        "change_type": change.get("before"),
        "note": result["grade"].get("note") or result.get("error"),
    }
