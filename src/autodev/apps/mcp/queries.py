"""What the read-only tools and resources answer, from the same functions as `autodev plan`, `status`
and `report` (run.plan_view, run.status, run.report_view), so a client sees what the command line shows.

Everything is plain, redacted JSON data: a request, a diff or a report may quote a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autodev.apps.mcp.arguments import RunOptions, inside, run_directory
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.redact import redact, redact_data
from autodev.run.estimate import for_plan
from autodev.run.layout import list_runs, load_state
from autodev.run.plan import prepare
from autodev.run.plan_view import plan_json
from autodev.run.report_view import build_report
from autodev.run.state import RunState
from autodev.run.status import local_status

DIFF_LIMIT = 200_000  # characters of diff text in one answer; the branch holds the whole change


def plan(request: str, root: Path, options: RunOptions) -> dict[str, Any]:
    """`autodev plan --json`: the selection decision, the stages with their tiers and models."""
    the_plan = prepare(request, root, options.cli_overrides(), selection=options.selection(), require_jail=False)
    return dict(redact_data(plan_json(the_plan, for_plan(the_plan))))


def status(root: Path, run_id: str | None) -> dict[str, Any]:
    """`autodev status --json`: each run's stage, status and agents (one run, or the recent ones)."""
    if run_id is not None:
        run_directory(root, run_id)  # the id is checked before it is looked up
    return {"runs": redact_data(local_status(root, run_id))}


def status_of(root: Path, run_id: str) -> dict[str, Any]:
    """One run's status row."""
    rows = local_status(root, run_directory(root, run_id).name)
    return dict(redact_data(rows[0]))


def report(root: Path, run_id: str) -> dict[str, Any]:
    """`autodev report RUN_ID --json`: where the run's time and money went."""
    return dict(redact_data(build_report(root, run_directory(root, run_id)).to_json()))


def state(root: Path, run_id: str) -> dict[str, Any]:
    """The run's state.json, secrets redacted (as `autodev run --json` prints it)."""
    return dict(redact_data(load_state(run_directory(root, run_id)).to_json()))


def runs(root: Path) -> dict[str, Any]:
    return {"runs": [run_dir.name for run_dir in list_runs(root)]}


def diff(root: Path, run_id: str, path: str | None = None) -> dict[str, Any]:
    """The run's change against its base commit: its commit when done, else its newest checkpoint.

    Only commits are read, never the worktree, so asking about a live run does not touch its index.
    """
    the_state = load_state(run_directory(root, run_id))
    pathspec = ["--", f":(literal){inside(root, path)}"] if path else []  # checked whatever the run's stage
    head = the_state.commit or the_state.checkpoint
    answer: dict[str, Any] = {
        "run_id": the_state.run_id,
        "status": the_state.status,
        "branch": the_state.branch,
        "base_commit": the_state.base_commit,
        "commit": the_state.commit,
        "of": "commit" if the_state.commit else "checkpoint" if head else "nothing yet",
        "diff": "",
        "stat": "",
        "truncated": False,
    }
    if head is None:
        return answer
    text = _git_diff(root, the_state, head, pathspec, stat=False)
    answer["stat"] = redact(_git_diff(root, the_state, head, pathspec, stat=True))
    answer["truncated"] = len(text) > DIFF_LIMIT
    answer["diff"] = redact(text[:DIFF_LIMIT])
    return answer


def _git_diff(root: Path, the_state: RunState, head: str, pathspec: list[str], *, stat: bool) -> str:
    form = "--stat=100" if stat else "--unified=3"
    result = gitops.git(
        ["diff", *gitops.NO_PROGRAMS, "--no-color", form, the_state.base_commit, head, *pathspec], root, check=False
    )
    if result.returncode != 0:
        raise UserError(
            f"cannot diff run {the_state.run_id}: {result.stderr.strip()[:200]}",
            hint="its branch or base commit may have been removed (autodev clean --purge)",
        )
    return result.stdout
