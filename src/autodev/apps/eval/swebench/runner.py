"""Each SWE-bench instance through the real pipeline: its prediction, and a line of cost and time.

Per instance: the repository at `base_commit` (`repos.make_instance_repo`), one pipeline run on the
`problem_statement` as `autodev run` runs it (`one_pass.run_pass`: worktree, agents, test gate,
commit), the diff from `base_commit` to the run's commit as `model_patch`, the run's directory
(state, metrics, sessions) archived under `OUT.runs/<instance_id>/`, and with `--grade local` the
local grade. The prediction and the side line are appended when the instance is done, so an
interrupted run resumes where it stopped; a crash inside a run is kept (its work-in-progress diff is
the prediction), a configuration error stops the whole run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodev.apps.eval.harness import run_units
from autodev.apps.eval.one_pass import run_pass
from autodev.apps.eval.options import EvalOptions
from autodev.apps.eval.swebench.dataset import Instance
from autodev.apps.eval.swebench.local_grade import grade_local
from autodev.apps.eval.swebench.predictions import append_line, done_ids, drop_broken_lines, meta_path, prediction
from autodev.apps.eval.swebench.repos import make_instance_repo, source_repo
from autodev.apps.eval.tasks import Task
from autodev.apps.eval.trial_record import agent_figures
from autodev.apps.eval.workspace import diff_bytes
from autodev.config.settings import load_settings
from autodev.core.clock import iso, utc_now
from autodev.models import ModelProvider
from autodev.models.pricing import total_cost
from autodev.run.confinement import sandbox_policy

InstanceProvider = Callable[[Instance, Path], ModelProvider]  # (instance, its repository at base_commit)


@dataclass(frozen=True)
class SwebenchOptions:
    predictions: Path
    model_name: str = "autodev"
    repos: Path | None = None
    grade: bool = False  # --grade local
    eval: EvalOptions = field(default_factory=EvalOptions)


def runs_dir(predictions: Path) -> Path:
    return predictions.with_name(predictions.name.removesuffix(".jsonl") + ".runs")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "instance"


def instance_task(instance: Instance) -> Task:
    """The instance as the pipeline's `Task`: the request only (nothing hidden travels with it)."""
    return Task(
        name=instance.instance_id,
        format="swebench",
        source=Path(instance.repo),
        request=instance.problem_statement,
        start={},
        hidden={},
        test_files=(),
        solution={},
        test_command=(),
        category="bugfix",
    )


def run_instance(
    instance: Instance, opts: SwebenchOptions, make_provider: InstanceProvider | None, archive: Path | None
) -> tuple[dict[str, str], dict[str, Any]]:
    """(the prediction line, the side-file line) for one instance."""
    started = utc_now()
    scratch = Path(
        tempfile.mkdtemp(prefix=f"autodev-swebench-{_slug(instance.instance_id)[:40]}-", dir=opts.eval.workdir)
    )
    try:
        source = source_repo(instance, opts.repos)
        repo = scratch / _slug(instance.repo)
        base = make_instance_repo(instance, source, repo, opts.eval.user_config)
        factory = (lambda _task: make_provider(instance, repo)) if make_provider is not None else None
        one = run_pass(instance_task(instance), repo, instance.problem_statement, opts.eval, factory, retry=False)
        patch = diff_bytes(repo, base, one.commit or base).decode("utf-8", errors="replace")
        if archive is not None and one.run_dir is not None and one.run_dir.is_dir():
            target = archive / _slug(instance.instance_id) / one.run_dir.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(one.run_dir, target)
        graded = None
        if opts.grade:
            policy = sandbox_policy(load_settings(repo, opts.eval.cli))
            graded = grade_local(instance, source, patch, policy, opts.eval.workdir).to_json()
        agents = agent_figures([one])
        cost = total_cost(*(row["cost_usd"] for row in agents.values() if row["runs"]))
        meta = {
            "instance_id": instance.instance_id,
            "model_name_or_path": opts.model_name,
            "run_status": one.status,
            "error": one.error,
            "run_id": one.run_id,
            "patch_lines": patch.count("\n"),
            "wall_s": round(one.wall_s, 3),
            "cost_usd": round(cost, 8) if cost is not None else None,
            "tokens": {k: sum(int(r[f"{k}_tokens"]) for r in agents.values()) for k in ("input", "output")},
            "agents": agents,
            "local_grade": graded,
            "started_at": iso(started),
            "ended_at": iso(utc_now()),
        }
        return prediction(instance.instance_id, opts.model_name, patch), meta
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class SwebenchRun:
    done: list[dict[str, Any]]  # the side lines of the instances run now
    skipped: list[str]  # already in the predictions file


def run_swebench(
    instances: Sequence[Instance],
    opts: SwebenchOptions,
    make_provider: InstanceProvider | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> SwebenchRun:
    """Every instance not yet in the predictions file, one at a time or `opts.eval.jobs` at a time."""
    drop_broken_lines(opts.predictions)  # a line an interrupted run cut short: the harness could not read it
    already = done_ids(opts.predictions)
    todo = [i for i in instances if i.instance_id not in already]
    by_name = {i.instance_id: i for i in todo}
    archive = runs_dir(opts.predictions)
    writing = threading.Lock()

    def work(task: Task, _trial: int) -> dict[str, Any]:
        line, meta = run_instance(by_name[task.name], opts, make_provider, archive)
        with writing:  # in the worker: a finished instance is on disk at once, one whole line at a time
            append_line(opts.predictions, line)
            append_line(meta_path(opts.predictions), meta)
        return meta

    def report(meta: dict[str, Any]) -> None:
        if on_done is not None:
            on_done(meta)

    done = run_units([(instance_task(i), 1) for i in todo], work, opts.eval.jobs, report)
    return SwebenchRun(done, [i.instance_id for i in instances if i.instance_id in already])


def summary(metas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Instances, non-empty patches, runs that crashed, cost, time, and the local grade when there is one."""
    costs = [float(m["cost_usd"]) for m in metas if m.get("cost_usd") is not None]
    graded = [m["local_grade"] for m in metas if m.get("local_grade")]
    return {
        "instances": len(metas),
        "patches": sum(1 for m in metas if m.get("patch_lines")),
        "errors": sum(1 for m in metas if m.get("run_status") == "error"),
        "cost_usd": round(sum(costs), 6) if costs else None,
        "unpriced": len(metas) - len(costs),
        "wall_s": round(sum(float(m.get("wall_s") or 0) for m in metas), 3),
        "local_resolved": sum(1 for g in graded if g["resolved"]) if graded else None,
        "local_graded": len(graded),
    }
