"""One (task, trial) through the real pipeline, graded on hidden tests.

1. a fresh temporary git repository with the starting project (`workspace.make_task_repo`);
2. the pipeline, as `autodev run` runs it (`one_pass.run_pass`), with the user's provider and flags;
3. grading in a fresh copy (`grading.grade`) of the diff from the starting commit to the run's commit;
4. with `tries=2`, a failed grade goes back once: a second pass from the first one's commit, where only
   the implementer runs (the test gate after it still does), told the failing tests' output;
5. the runs archived beside the result, and the result record built (`trial_record.result_record`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autodev.apps.eval.grading import Grade, grade
from autodev.apps.eval.one_pass import Pass, describe_exception, run_pass
from autodev.apps.eval.options import EvalOptions, ProviderFactory
from autodev.apps.eval.tasks import Task
from autodev.apps.eval.trial_record import result_record
from autodev.apps.eval.workspace import advance, diff_bytes, make_task_repo
from autodev.config.settings import load_settings
from autodev.core.clock import utc_now
from autodev.run.confinement import sandbox_policy
from autodev.sandbox.jail import SandboxPolicy

RETRY_OUTPUT_CHARS = 8000


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


def _grade(task: Task, patch: bytes, scratch: Path, policy: SandboxPolicy) -> Grade:
    """Grade, turning a failure of the grading machinery itself (git, the file system) into a failed grade."""
    try:
        return grade(task, patch, scratch, policy)
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
            one = run_pass(task, repo, request, opts, make_provider, retry=attempt > 1)
            head = one.commit or head
            patch = diff_bytes(repo, base, head)
            graded = _grade(task, patch, scratch / f"grade-{attempt}", sandbox_policy(load_settings(repo, opts.cli)))
            tries.append((one, graded))
            if graded.passed or attempt == opts.tries:
                break
            if head != base:
                advance(repo, head)
            request = retry_request(task.request, graded)
        if out is not None:
            _archive(out, task, trial, [one for one, _ in tries], patch)
        return result_record(task, trial, tries, started, scratch if opts.keep else None)
    finally:
        if not opts.keep:
            shutil.rmtree(scratch, ignore_errors=True)
