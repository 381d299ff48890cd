"""Safe by construction on Temporal too (issue 22): a docs request whose implementer changes code gets
the test writer back (after the implementer, before the gate), the gate and the validation agents,
when the run is a workflow on a real Temporal dev server and its agents are activities on a worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    APPROVE,
    AUDIT_APPROVE,
    NO_DOCS,
    PLAN,
    RESEARCH,
    TESTS_WRITTEN,
    WEB_NOTES,
    edit_mul,
    edit_mul_test,
    final,
    implemented,
    tools,
)
from temporal_support import cli_worker, running, stop, temporal_repo

pytest.importorskip("temporalio")

from autodev.config.settings import CliOverrides
from autodev.engines.batch_file import Feature
from autodev.engines.temporal.client import run_batch_on_temporal
from autodev.engines.temporal.devserver import DevServer

DOCS_REQUEST = "Add a short usage section to README.md"
README_PLAN = "## Goal\nExplain rounding.\n## Changes\n1. README.md — add a section\n## Tests to write\n- none"
SCRIPT = {
    "version": 1,
    "web_search": True,
    "agents": {
        "researcher-local": [final(RESEARCH)],
        "planner": [final(PLAN)],
        "test-master": [tools(edit_mul_test(), text="Testing mul."), final(TESTS_WRITTEN)],
        "implementer": [tools(edit_mul(), text="Editing."), final(implemented("- Done."))],
        "reviewer": [final(APPROVE)] * 2,
        "security-auditor": [final(AUDIT_APPROVE)] * 2,
        "doc-master": [final(NO_DOCS)] * 2,
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with DevServer() as dev:
        yield dev.address


def run_on_temporal(server: str, tmp_path: Path, script: dict[str, Any], request: str) -> dict[str, Any]:
    """One feature as a workflow with a worker on the dev server; its state.json once it came home."""
    repo = temporal_repo(tmp_path, script)
    queue = f"q-{tmp_path.name}"
    worker = cli_worker(server, queue, tmp_path / "worker", repo)
    with running(worker):
        results = run_batch_on_temporal(
            [Feature("f1", request, repo)],
            CliOverrides(),
            address=server,
            namespace="default",
            task_queue=queue,
            features_at_once=1,
            reporter=lambda line: None,
        )
        code, stderr = stop(worker)
    assert code == 0, stderr
    [result] = results
    assert result.status == "done", result.error
    assert result.run_id is not None
    state: dict[str, Any] = json.loads(
        (repo / ".autodev" / "runs" / result.run_id / "state.json").read_text(encoding="utf-8")
    )
    return state


def test_a_docs_request_that_changes_code_gets_its_tests_on_temporal(server: str, tmp_path: Path) -> None:
    state = run_on_temporal(server, tmp_path, SCRIPT, DOCS_REQUEST)
    assert (state["change_type"]["before"], state["change_type"]["after"]) == ("docs", "feature")
    assert state["agents"]["test-master"]["status"] == "done"
    assert state["gate"]["status"] == "passed"
    for name in ("reviewer", "security-auditor", "doc-master"):
        assert state["agents"][name]["status"] == "done"
    assert state["agents"]["researcher-web"]["status"] == "skipped"


def test_a_plan_narrowed_on_a_worker_comes_back_when_the_change_reaches_code(server: str, tmp_path: Path) -> None:
    """The planner runs as an activity: its narrowing (test-master and the audit skipped for a README-only
    plan) reaches the workflow, and the gate activity re-checks the diff against the planned class."""
    script = json.loads(json.dumps(SCRIPT))
    script["agents"]["planner"] = [final(README_PLAN)]
    script["agents"]["researcher-web"] = [final(WEB_NOTES)]
    state = run_on_temporal(server, tmp_path, script, "Explain how rounding works")
    change, agents = state["change_type"], state["agents"]
    assert (change["before"], change["planned"], change["after"]) == ("feature", "docs", "feature")
    assert any("runs after all" in reason for reason in change["reasons"])
    # skipped after the plan, then brought back: it ran after the implementer, before the gate
    assert agents["test-master"]["started_at"] >= agents["implementer"]["ended_at"]
    assert agents["security-auditor"]["status"] == "done" and state["gate"]["status"] == "passed"
