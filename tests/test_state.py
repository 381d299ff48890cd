"""state.json's typed sections write and read exactly the JSON the file has always held."""

from __future__ import annotations

import copy
from typing import Any

from autodev.run.state import AgentState, RunState

AGENT = {
    "status": "done",
    "reason": None,
    "tier": "balanced",
    "model": "m",
    "started_at": "2026-01-01T00:00:00Z",
    "ended_at": "2026-01-01T00:01:00Z",
    "handoff": "h",
    "session_file": "s.md",
    "error": None,
    "runs": 2,
    "ended_runs": 2,
    "checkpoint": "c" * 40,
}

FULL: dict[str, Any] = {
    "schema": 1,
    "run_id": "r",
    "request": "add mul",
    "repo": "/repo",
    "worktree": "/wt",
    "branch": "autodev/r",
    "base_commit": "b" * 40,
    "status": "failed",
    "change_type": {"before": "docs", "planned": None, "after": "feature", "reasons": ["code changed"]},
    "agents": {"implementer": AGENT},
    "gate": {
        "status": "skipped",
        "reason": "only docs",
        "runs": 1,
        "exit_code": None,
        "command": ["pytest", "-q"],
        "duration_s": 1.234,
        "tests": {
            "runner": "pytest",
            "passed": 3,
            "failed": 1,
            "errors": 0,
            "skipped": 0,
            "total": 4,
            "failing": ["t::x"],
        },
        "verdict": {
            "by": "baseline",
            "note": None,
            "preexisting": ["tests.test_a.test_old"],
            "broken": [],
            "new_failing": ["t::x"],
            "fixed": 1,
        },
    },
    "baseline": {
        "status": "recorded",
        "commit": "b" * 40,
        "command": ["pytest", "-q"],
        "key": "k" * 32,
        "cache_file": "/repo/.autodev/cache/baselines/" + "k" * 32 + ".json",
        "cached": True,
        "exit_code": 1,
        "duration_s": 0.5,
        "tests": {
            "runner": "pytest",
            "passed": 3,
            "failed": 1,
            "errors": 0,
            "skipped": 0,
            "total": 4,
            "failing": ["tests.test_a.test_old"],
        },
    },
    "commit": "c" * 40,
    "diff": {"files": 2, "insertions": 10, "deletions": 1, "stat": " a | 1 +\n"},
    "cost_usd": None,
    "pipeline": {"implementer": []},
    "handoff_budget": {
        "budget": 600,
        "total": 590,
        "per_agent": {"implementer": 590},
        "compacted": {"planner": {"from": 900, "to": 300}},
    },
    "warnings": ["w"],
    "error": "agent failed",
    "progress": {"step": "remediate", "cycle": 1, "notes": "## Findings from reviewer\n\nfix x"},
    "checkpoint": "c" * 40,
    "checkpoints": [{"agent": "implementer", "run": 2, "commit": "c" * 40, "at": "2026-01-01T00:01:00Z"}],
    "options": {"provider": "scripted"},
    "strikes": {"reviewer": 1},
    "test_summary": "Tests FAILED",
    "resumes": 1,
    "issue": {"title": "Add mul", "number": 7, "url": "https://github.com/o/r/issues/7", "file": None},
    "published": {
        "remote": "origin",
        "branch": "autodev/r",
        "commit": "c" * 40,
        "pushed_at": "2026-01-01T00:03:00Z",
        "pull_request": "https://github.com/o/r/pull/8",
        "draft": False,
    },
    "approvals": {"plan": "approved", "diff": "pending"},
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:02:00Z",
}


def test_a_full_state_round_trips_key_for_key() -> None:
    data = RunState.from_json(copy.deepcopy(FULL)).to_json()
    assert data == FULL
    assert list(data) == list(FULL)


def test_sections_not_reached_yet_stay_empty_as_before() -> None:
    state = RunState(run_id="r", request="q", repo="/r", worktree="/w", branch="b", base_commit="c")
    data = state.to_json()
    assert data["gate"] == {} and data["handoff_budget"] == {} and data["diff"] is None
    assert data["baseline"] == {}
    assert data["progress"] == {"step": "build", "cycle": 0}
    assert data["change_type"] == {"before": "feature", "planned": None, "after": None, "reasons": []}
    assert data["checkpoints"] == []
    assert data["issue"] is None and data["published"] is None
    assert RunState.from_json(data).to_json() == data


def test_an_older_file_without_the_newer_keys_loads() -> None:
    old = {k: FULL[k] for k in ("run_id", "request", "repo", "worktree", "branch", "base_commit", "status")}
    old["agents"] = {"implementer": {"status": "failed", "unknown": 1}}
    old["progress"] = {"step": "gate", "cycle": 0, "engine": "temporal", "workflow_id": "autodev-r"}
    state = RunState.from_json(old)
    assert state.issue is None and state.published is None  # written before runs came from issues
    assert state.agents["implementer"].status == "failed"
    assert state.progress.step == "gate" and state.progress.workflow_id == "autodev-r"
    assert state.to_json()["progress"] == old["progress"]
    assert state.baseline.status is None and state.to_json()["baseline"] == {}  # written before the baseline
    assert state.gate.verdict is None


def test_an_unavailable_baseline_and_an_exit_code_verdict_round_trip() -> None:
    data = copy.deepcopy(FULL)
    data["baseline"] = {"status": "unavailable", "reason": "not a pytest or unittest command"} | {
        key: value for key, value in FULL["baseline"].items() if key not in ("status", "tests")
    }
    data["gate"]["verdict"] = {
        "by": "exit_code",
        "note": "Judged by the exit code alone: no baseline",
        "preexisting": [],
        "broken": [],
        "new_failing": [],
        "fixed": 0,
    }
    data["gate"]["status"] = "no_tests"
    assert RunState.from_json(copy.deepcopy(data)).to_json() == data


def test_transitions_keep_the_counts_a_resume_relies_on() -> None:
    agent = AgentState()
    agent.start("t0")
    agent.end(False, error="boom", model="m", started_at="t0", ended_at="t1")
    assert (agent.status, agent.runs, agent.ended_runs, agent.error) == ("failed", 1, 1, "boom")
    agent.reset_for_rerun()
    assert (agent.status, agent.error, agent.reason) == ("pending", None, None)
    agent.start("t2")
    agent.end(True, error=None, model=None, started_at=None, ended_at="t3", handoff="done")
    assert (agent.status, agent.handoff, agent.model, agent.started_at) == ("done", "done", "m", "t2")
    agent.cancel()
    assert agent.status == "cancelled" and agent.reason == "the run ended before this agent ran"
