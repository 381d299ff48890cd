"""Safe by construction on Temporal too (issue 22): a docs request whose implementer changes code gets
the test writer back (after the implementer, before the gate), the gate and the validation agents,
when the run is a workflow on a real Temporal dev server and its agents are activities on a worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripts import (
    APPROVE,
    AUDIT_APPROVE,
    NO_DOCS,
    PLAN,
    RESEARCH,
    TESTS_WRITTEN,
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


def test_a_docs_request_that_changes_code_gets_its_tests_on_temporal(server: str, tmp_path: Path) -> None:
    repo = temporal_repo(tmp_path, SCRIPT)
    worker = cli_worker(server, "q-selection", tmp_path / "worker", repo)
    with running(worker):
        results = run_batch_on_temporal(
            [Feature("f1", DOCS_REQUEST, repo)],
            CliOverrides(),
            address=server,
            namespace="default",
            task_queue="q-selection",
            features_at_once=1,
            reporter=lambda line: None,
        )
        code, stderr = stop(worker)
    assert code == 0, stderr
    [result] = results
    assert result.status == "done", result.error
    assert result.run_id is not None
    state = json.loads((repo / ".autodev" / "runs" / result.run_id / "state.json").read_text(encoding="utf-8"))
    assert (state["change_type"]["before"], state["change_type"]["after"]) == ("docs", "feature")
    assert state["agents"]["test-master"]["status"] == "done"
    assert state["gate"]["status"] == "passed"
    for name in ("reviewer", "security-auditor", "doc-master"):
        assert state["agents"][name]["status"] == "done"
    assert state["agents"]["researcher-web"]["status"] == "skipped"
