"""`--approve plan|diff`: the run pauses after the planner (or before its final commit) for the user.

On a terminal it asks there (driven here through a pseudo-terminal: `y`, or `e` to edit the plan in
$EDITOR and then `y`); anywhere else it stops in status `awaiting-approval` (exit 4), and
`autodev approve RUN_ID [--reject]` answers and goes on.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scripts import CALC_FILES, REQUEST, feature_script, git

from autodev.apps.cli.main import main
from autodev.core.errors import EXIT_AWAITING_APPROVAL
from autodev.core.records import CallRecord, of_kind, read_metrics

AFTER_PLANNER = ("test-master", "implementer", "reviewer", "security-auditor", "doc-master")
EDITED_PLAN = "## Plan\\n1. Edited by the user: add mul, tested.\\n"


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(feature_script()), encoding="utf-8")
    return path


def the_run(repo: Path) -> tuple[str, dict[str, Any]]:
    run_dir = next((repo / ".autodev" / "runs").iterdir())
    return run_dir.name, json.loads((run_dir / "state.json").read_text())


def called(repo: Path, run_id: str) -> set[str]:
    records = of_kind(read_metrics(repo / ".autodev" / "runs" / run_id / "metrics.jsonl"), CallRecord)
    return {record.agent for record in records}


def run_args(repo: Path, script: Path, *approve: str) -> list[str]:
    points = [arg for point in approve for arg in ("--approve", point)]
    return ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), *points]


def test_without_a_terminal_the_run_waits_after_the_planner_and_approve_goes_on(make_repo: Any, script: Path) -> None:
    repo = make_repo(CALC_FILES)
    assert main(run_args(repo, script, "plan")) == EXIT_AWAITING_APPROVAL
    run_id, state = the_run(repo)
    assert state["status"] == "awaiting-approval"
    assert state["approvals"] == {"plan": "pending"}
    assert state["options"]["approve"] == ["plan"]
    assert state["agents"]["planner"]["status"] == "done"
    assert f"autodev approve {run_id}" in state["error"] and "the rest is estimated at" in state["error"]
    assert not called(repo, run_id) & set(AFTER_PLANNER)  # nothing after the plan ran (or was paid for)
    assert main(["resume", run_id, "--repo", str(repo)]) == EXIT_AWAITING_APPROVAL  # a resume asks again

    assert main(["approve", run_id, "--repo", str(repo)]) == 0
    _, state = the_run(repo)
    assert state["status"] == "done", state["error"]
    assert state["approvals"] == {"plan": "approved"}
    assert called(repo, run_id) >= set(AFTER_PLANNER)


def test_a_rejected_plan_ends_the_run_as_failed(make_repo: Any, script: Path) -> None:
    repo = make_repo(CALC_FILES)
    assert main(run_args(repo, script, "plan")) == EXIT_AWAITING_APPROVAL
    run_id, _ = the_run(repo)
    assert main(["approve", run_id, "--repo", str(repo), "--reject"]) == 1
    _, state = the_run(repo)
    assert state["status"] == "failed" and "rejected" in state["error"]
    assert state["approvals"] == {"plan": "rejected"}
    assert not called(repo, run_id) & set(AFTER_PLANNER)
    assert main(["approve", run_id, "--repo", str(repo)]) == 2  # nothing waits for an answer now


def test_approve_diff_waits_before_the_final_commit(make_repo: Any, script: Path) -> None:
    repo = make_repo(CALC_FILES)
    assert main(run_args(repo, script, "diff")) == EXIT_AWAITING_APPROVAL
    run_id, state = the_run(repo)
    assert state["status"] == "awaiting-approval" and state["approvals"] == {"diff": "pending"}
    assert state["progress"]["step"] == "finish"
    assert state["commit"] == state["checkpoint"]  # the checkpoints, not yet squashed into the result
    assert main(["approve", run_id, "--repo", str(repo)]) == 0
    _, state = the_run(repo)
    assert state["status"] == "done" and state["commit"]
    assert git(repo, "rev-list", "--count", f"{state['base_commit']}..{state['branch']}").strip() == "1"


def read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 120.0) -> None:
    """Read the terminal's output until `wanted` shows (the process's own pace: no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {wanted!r}; output so far:\n{seen.decode(errors='replace')[-3000:]}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"the process ended before {wanted!r}:\n{seen.decode(errors='replace')[-3000:]}"
            seen.extend(chunk)


def test_on_a_terminal_the_run_asks_and_an_edited_plan_is_what_follows(
    make_repo: Any, script: Path, tmp_path: Path
) -> None:
    repo = make_repo(CALC_FILES)
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen(sys.argv[1], 'w').write('{EDITED_PLAN}')\n", encoding="utf-8")
    env = {**os.environ, "EDITOR": f"{sys.executable} {editor}", "COLUMNS": "200"}
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "autodev", *run_args(repo, script, "plan")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, b"Approve?", seen)
        assert b"## Goal" in seen and b"the rest is estimated at" in seen
        os.write(master, b"e\n")
        read_until(master, b"Edited by the user", seen)
        again = bytearray(seen[seen.index(b"Edited by the user") :])
        read_until(master, b"Approve?", again)  # asked again, with the edited plan shown
        os.write(master, b"y\n")
        read_until(master, b"run done", again)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    run_id, state = the_run(repo)
    assert state["status"] == "done", state["error"]
    assert state["approvals"] == {"plan": "approved"}
    assert state["agents"]["planner"]["handoff"].startswith("## Plan\n1. Edited by the user")
    session = (repo / ".autodev" / "runs" / run_id / "sessions" / "implementer.md").read_text()
    assert "Edited by the user" in session  # the agents after the planner read the edited plan


def test_end_of_input_at_the_prompt_leaves_the_run_waiting_for_approve(make_repo: Any, script: Path) -> None:
    repo = make_repo(CALC_FILES)
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "autodev", *run_args(repo, script, "plan")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "COLUMNS": "200"},
        close_fds=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, b"Approve?", seen)
        os.write(master, b"\x04")  # Ctrl-D: no answer
        read_until(master, b"autodev approve", seen)
        assert process.wait(timeout=120) == EXIT_AWAITING_APPROVAL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    _, state = the_run(repo)
    assert state["status"] == "awaiting-approval" and state["approvals"] == {"plan": "pending"}
