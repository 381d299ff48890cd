"""The whole feature pipeline on a real git repository, with scripted model replies.

Everything but the model is real: the worktree and branch, the tool calls editing files, the
project's unittest suite as the gate, state.json and metrics.jsonl.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    APPROVE,
    CALC_FILES,
    FEATURE_AGENTS,
    REQUEST,
    VALIDATION_AGENTS,
    WRONG_MUL_IMPL,
    call,
    edit_mul,
    error,
    feature_script,
    final,
    fix_mul,
    git,
    implemented,
    settle,
    tools,
    verdict,
)

from autodev.config.settings import CliOverrides
from autodev.core.errors import UserError
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.fakes.scripted import ScriptedProvider

STATE_KEYS = {
    "schema",
    "run_id",
    "request",
    "repo",
    "worktree",
    "branch",
    "status",
    "change_type",
    "agents",
    "created_at",
    "updated_at",
}
AGENT_STATE_KEYS = {
    "status",
    "reason",
    "tier",
    "model",
    "started_at",
    "ended_at",
    "handoff",
    "session_file",
    "error",
}
AGENT_RECORD_KEYS = {
    "schema",
    "kind",
    "run_id",
    "agent",
    "tier",
    "model",
    "provider",
    "status",
    "skip_reason",
    "started_at",
    "ended_at",
    "duration_s",
    "turns",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "context_tokens",
    "handoff_tokens",
}
CALL_RECORD_KEYS = {
    "schema",
    "kind",
    "run_id",
    "agent",
    "model",
    "started_at",
    "duration_s",
    "attempts",
    "status",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
}
TIMER_RECORD_KEYS = {"schema", "kind", "run_id", "name", "started_at", "duration_s"}
EXCLUDES = ("/.autodev/runs/", "/.autodev/cache/", "/.autodev/worktrees/")
ISO_UTC_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
EXPECTED_MODELS = {
    "researcher-local": "scripted-fast",
    "researcher-web": "scripted-balanced",
    "planner": "scripted-balanced",
    "test-master": "scripted-balanced",
    "implementer": "scripted-balanced",
    "reviewer": "scripted-fast",
    "security-auditor": "scripted-deep",
    "doc-master": "scripted-fast",
}
BUILD_AFTER_RESEARCH = ("planner", "test-master", "implementer")


# ---------------------------------------------------------------- helpers
def run(repo: Path, script: dict[str, Any], **overrides: Any) -> RunResult:
    cli = CliOverrides(provider="scripted", **overrides)
    return run_feature(REQUEST, repo, cli, provider=ScriptedProvider(script))


def state_of(result: RunResult) -> dict[str, Any]:
    return json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def metrics_of(result: RunResult, kind: str | None = None) -> list[dict[str, Any]]:
    found = records(result.run_dir / "metrics.jsonl")
    return [r for r in found if kind is None or r["kind"] == kind]


def moment(value: str) -> datetime:
    assert ISO_UTC_MICROS.match(value), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == UTC.utcoffset(None)
    return parsed


def interval(state: dict[str, Any], agent: str) -> tuple[datetime, datetime]:
    entry = state["agents"][agent]
    return moment(entry["started_at"]), moment(entry["ended_at"])


def overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def checkout_snapshot(repo: Path) -> dict[str, Any]:
    """Everything about the user's checkout a run must not change."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] not in (".git", ".autodev")
    }
    files.update({str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / ".autodev").glob("*.toml"))})
    return {
        "files": files,
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "diff": git(repo, "diff"),
        "diff_cached": git(repo, "diff", "--cached"),
        "ls_files": git(repo, "ls-files", "--stage"),
        "index": (repo / ".git" / "index").read_bytes(),
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
    }


def session_runs(path: str) -> list[str]:
    """A session file holds every run of its agent, each starting with a `# <agent>` heading."""
    text = Path(path).read_text(encoding="utf-8")
    return [part for part in re.split(r"^(?=# [a-z-]+(?: \(run \d+\))? — model )", text, flags=re.M) if part]


def task_of(session_part: str) -> str:
    return session_part.split("## Task", 1)[1].split("## Turn 1", 1)[0]


@pytest.fixture
def calc_repo(make_repo: Any) -> Path:
    repo = make_repo(CALC_FILES)
    settle(repo)
    return repo


# ---------------------------------------------------------------- 1. happy path
def test_happy_path_commits_on_the_run_branch_and_records_everything(calc_repo: Path) -> None:
    repo = calc_repo
    exclude_file = repo / ".git" / "info" / "exclude"
    before = checkout_snapshot(repo)
    base = before["head"].strip()

    result = run(repo, feature_script())
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    run_id = state["run_id"]
    branch = f"autodev/{run_id}"
    assert state["branch"] == branch
    assert result.run_dir == repo / ".autodev" / "runs" / run_id
    assert Path(state["worktree"]) == repo / ".autodev" / "worktrees" / run_id
    assert Path(state["repo"]) == repo

    # The implementer's edit (and test-master's test) are the one commit on top of the base.
    assert git(repo, "rev-list", "--count", f"{base}..{branch}").strip() == "1"
    assert git(repo, "rev-parse", f"{branch}^").strip() == base
    assert git(repo, "rev-parse", branch).strip() == state["commit"]
    shown = git(repo, "show", branch)
    assert "+def mul(a, b):" in shown
    assert "+    return a * b" in shown
    assert "+class MulTests(unittest.TestCase):" in shown
    assert "def mul(a, b):\n    return a * b\n" in git(repo, "show", f"{branch}:calc/__init__.py")
    assert git(repo, "show", "--name-only", "--format=", branch).split() == ["calc/__init__.py", "tests/test_calc.py"]
    assert state["diff"]["files"] == 2
    assert state["gate"]["status"] == "passed"
    assert state["gate"]["runs"] == 1

    # state.json: schema 1 with every contract key.
    assert state["schema"] == 1
    assert set(state) >= STATE_KEYS
    assert state["request"] == REQUEST
    assert set(state["change_type"]) >= {"before", "after", "reasons"}
    assert state["change_type"]["before"] in ("docs", "typo", "config", "feature")
    moment(state["created_at"])
    moment(state["updated_at"])
    assert list(state["agents"]) == list(FEATURE_AGENTS)
    for name, agent in state["agents"].items():
        assert set(agent) >= AGENT_STATE_KEYS, name
        assert agent["status"] == "done", name
        assert agent["tier"] in ("fast", "balanced", "deep")
        assert agent["model"] == EXPECTED_MODELS[name]
        start, end = interval(state, name)
        assert start <= end
        assert agent["handoff"]
        assert agent["error"] is None
        session = Path(agent["session_file"])
        assert session == result.run_dir / "sessions" / f"{name}.md"
        assert agent["handoff"] in session.read_text(encoding="utf-8")
    assert state["agents"]["security-auditor"]["tier"] == "deep"

    # metrics.jsonl: one agent record per agent, a call record per model request, all contract fields.
    all_records = metrics_of(result)
    assert {r["kind"] for r in all_records} == {"agent", "call", "timer"}
    agent_records = metrics_of(result, "agent")
    assert sorted(r["agent"] for r in agent_records) == sorted(FEATURE_AGENTS)
    calls = metrics_of(result, "call")
    for record in agent_records:
        # the contract fields, plus the additive ones: sandbox refusals and working-context compaction
        assert set(record) == AGENT_RECORD_KEYS | {"refusals", "compactions", "elided_tokens"}
        assert record["schema"] == 1
        assert record["run_id"] == run_id
        assert record["status"] == "done"
        assert record["provider"] == "scripted"
        assert record["skip_reason"] is None
        assert record["model"] == EXPECTED_MODELS[record["agent"]]
        assert record["tier"] == state["agents"][record["agent"]]["tier"]
        assert moment(record["started_at"]) <= moment(record["ended_at"])
        assert record["duration_s"] >= 0
        assert record["turns"] == len([c for c in calls if c["agent"] == record["agent"]])
        assert len(record["context_tokens"]) == record["turns"]
        assert record["input_tokens"] > 0 and record["output_tokens"] > 0
        assert record["handoff_tokens"] > 0
        assert record["cost_usd"] is None or isinstance(record["cost_usd"], float)
    by_agent = {r["agent"]: r for r in agent_records}
    assert by_agent["implementer"]["tool_calls"] == {"Read": 1, "Edit": 1}  # Edit needs a Read first
    assert by_agent["test-master"]["tool_calls"] == {"Read": 1, "Edit": 1}
    assert by_agent["reviewer"]["tool_calls"] == {}
    assert len(calls) == 10  # one per reply: test-master and implementer take two turns each
    for record in calls:
        assert set(record) == CALL_RECORD_KEYS
        assert record["schema"] == 1
        assert record["run_id"] == run_id
        assert record["status"] == "ok"
        assert record["attempts"] == 1
        assert record["model"] == EXPECTED_MODELS[record["agent"]]
        moment(record["started_at"])
    assert sum(c["input_tokens"] for c in calls) == sum(r["input_tokens"] for r in agent_records)
    timers = metrics_of(result, "timer")
    assert {t["name"] for t in timers} >= {"build_phase", "test_gate", "validation_phase"}
    for record in timers:
        assert set(record) == TIMER_RECORD_KEYS

    # The cross-run cache got the same records.
    cache = records(repo / ".autodev" / "cache" / "performance_metrics.jsonl")
    assert cache == all_records

    # .git/info/exclude lists the run's directories; the user's checkout is as it was.
    excluded = exclude_file.read_text(encoding="utf-8").splitlines()
    for entry in EXCLUDES:
        assert excluded.count(entry) == 1
    assert checkout_snapshot(repo) == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_second_run_keeps_excludes_single_and_gets_its_own_branch(calc_repo: Path) -> None:
    first = state_of(run(calc_repo, feature_script()))
    second = state_of(run(calc_repo, feature_script()))
    assert first["status"] == second["status"] == "done"
    assert first["run_id"] != second["run_id"]
    assert first["commit"] != second["commit"]
    excluded = (calc_repo / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines()
    assert all(excluded.count(entry) == 1 for entry in EXCLUDES)
    cache = records(calc_repo / ".autodev" / "cache" / "performance_metrics.jsonl")
    assert {r["run_id"] for r in cache} == {first["run_id"], second["run_id"]}


# ---------------------------------------------------------------- 2. parallelism
def test_independent_agents_overlap_in_time(calc_repo: Path) -> None:
    delays = {name: 0.5 for name in ("researcher-local", "researcher-web", *VALIDATION_AGENTS)}
    state = state_of(run(calc_repo, feature_script(delays=delays)))

    assert state["status"] == "done", state.get("error")
    assert overlap(interval(state, "researcher-local"), interval(state, "researcher-web"))
    for a, b in (("reviewer", "security-auditor"), ("reviewer", "doc-master"), ("security-auditor", "doc-master")):
        assert overlap(interval(state, a), interval(state, b)), (a, b)
    # Research must finish before the planner starts, and the build before validation.
    research_end = max(interval(state, n)[1] for n in ("researcher-local", "researcher-web"))
    assert research_end <= interval(state, "planner")[0]
    assert interval(state, "implementer")[1] <= min(interval(state, n)[0] for n in VALIDATION_AGENTS)


def test_max_parallel_one_runs_one_agent_at_a_time(calc_repo: Path) -> None:
    delays = {name: 0.2 for name in ("researcher-local", "researcher-web", *VALIDATION_AGENTS)}
    state = state_of(run(calc_repo, feature_script(delays=delays), max_parallel=1))

    assert state["status"] == "done", state.get("error")
    intervals = {name: interval(state, name) for name in FEATURE_AGENTS}
    names = list(FEATURE_AGENTS)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not overlap(intervals[a], intervals[b]), (a, b)


# ---------------------------------------------------------------- 3. a failing agent
def test_failing_agent_fails_the_run_and_cancels_its_dependents(calc_repo: Path) -> None:
    before = checkout_snapshot(calc_repo)
    script = feature_script({"researcher-web": [error("boom", delay=0.1)]})
    result = run(calc_repo, script)
    state = state_of(result)

    assert result.state.status == "failed"
    assert state["status"] == "failed"
    assert "researcher-web" in state["error"] and "boom" in state["error"]
    agents = state["agents"]
    assert agents["researcher-web"]["status"] == "failed"
    assert "boom" in agents["researcher-web"]["error"]
    assert agents["researcher-local"]["status"] == "done"
    assert agents["researcher-local"]["handoff"].startswith("## Relevant code")
    later = (*BUILD_AFTER_RESEARCH, *VALIDATION_AGENTS)
    for name in later:
        assert agents[name]["status"] == "cancelled", name
        assert agents[name]["reason"], name
        assert agents[name]["started_at"] is None, name
        assert agents[name]["handoff"] is None, name
    assert "researcher-web" in agents["planner"]["reason"]

    agent_records = {r["agent"]: r for r in metrics_of(result, "agent")}
    assert agent_records["researcher-web"]["status"] == "failed"
    assert agent_records["researcher-local"]["status"] == "done"
    assert not set(agent_records) & set(later)
    assert not {c["agent"] for c in metrics_of(result, "call")} & set(later)
    failed_calls = [c for c in metrics_of(result, "call") if c["agent"] == "researcher-web"]
    assert [c["status"] for c in failed_calls] == ["error"]
    assert "gate" not in state or not state["gate"]
    assert state["commit"] is None  # nothing was changed, so nothing to commit

    assert checkout_snapshot(calc_repo) == before


# ---------------------------------------------------------------- 4. the test gate
def test_failing_gate_sends_the_output_back_to_the_implementer(calc_repo: Path) -> None:
    implementer = [
        tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul."),
        final(implemented("- Added mul.")),
        tools(fix_mul(), text="mul added instead of multiplying."),
        final(implemented("- Fixed mul to multiply.")),
    ]
    result = run(calc_repo, feature_script({"implementer": implementer}))
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    assert state["agents"]["implementer"]["runs"] == 2
    assert state["gate"]["status"] == "passed"
    assert state["gate"]["runs"] == 2
    first, second = session_runs(state["agents"]["implementer"]["session_file"])
    assert "(run 2)" in second.splitlines()[0]
    retry_task = task_of(second)
    assert "tests fail" in retry_task
    assert "FAIL: test_mul" in retry_task
    assert "AssertionError: 5 != 6" in retry_task
    assert "FAIL: test_mul" not in task_of(first)
    assert "return a * b" in git(calc_repo, "show", f"{state['branch']}:calc/__init__.py")
    assert len([t for t in metrics_of(result, "timer") if t["name"] == "test_gate"]) == 2
    implementer_records = [r for r in metrics_of(result, "agent") if r["agent"] == "implementer"]
    assert [r["status"] for r in implementer_records] == ["done", "done"]


def test_gate_exhausted_fails_the_run_but_keeps_the_work(calc_repo: Path) -> None:
    implementer = [
        tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul."),
        final(implemented("- Added mul.")),
        final(implemented("- I believe it is correct.")),
        final(implemented("- Still correct, I think.")),
        final("unused"),
    ]
    result = run(calc_repo, feature_script({"implementer": implementer}))
    state = state_of(result)

    assert state["status"] == "failed"
    assert "tests" in state["error"]
    assert "after 2 fix attempt(s)" in state["error"]
    assert state["agents"]["implementer"]["runs"] == 3  # the first run plus max_test_retries=2
    assert state["gate"]["status"] == "failed"
    assert state["gate"]["runs"] == 3
    for name in VALIDATION_AGENTS:
        assert state["agents"][name]["status"] == "cancelled"
    # Nothing lost: every finished writing agent's work is a checkpoint on the run's branch, to resume from.
    assert state["commit"] == state["checkpoint"]
    assert [c["agent"] for c in state["checkpoints"]] == ["test-master", "implementer"]
    branch = state["branch"]
    assert git(calc_repo, "rev-parse", branch).strip() == state["commit"]
    assert "autodev checkpoint: implementer (run 1)" in git(calc_repo, "log", "-1", "--format=%s", branch)
    assert WRONG_MUL_IMPL.strip() in git(calc_repo, "show", f"{branch}:calc/__init__.py")
    assert "class MulTests" in git(calc_repo, "show", f"{branch}:tests/test_calc.py")


# ---------------------------------------------------------------- 5. remediation
def test_request_changes_goes_back_to_the_implementer_then_approves(calc_repo: Path) -> None:
    reviewer = [verdict("REQUEST_CHANGES", "- mul has no docstring"), final(APPROVE)]
    result = run(calc_repo, feature_script({"reviewer": reviewer}))
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    agents = state["agents"]
    assert agents["reviewer"]["runs"] == 2
    assert agents["implementer"]["runs"] == 2
    assert agents["security-auditor"]["runs"] == 2  # the whole validation phase runs again
    assert agents["doc-master"]["runs"] == 2
    assert state["gate"]["runs"] == 2  # the gate re-runs after the fix
    _, second = session_runs(agents["implementer"]["session_file"])
    task = task_of(second)
    assert "## Findings from reviewer" in task
    assert "mul has no docstring" in task
    assert "## Findings from security-auditor" not in task
    assert "VERDICT: APPROVE" in agents["reviewer"]["handoff"]
    assert {t["name"] for t in metrics_of(result, "timer")} >= {"validation_phase", "validation_phase_2"}
    first_review, second_review = session_runs(agents["reviewer"]["session_file"])
    assert "# Your previous review" not in first_review
    assert "# Tests\n\nThe test gate passed" in first_review  # what happened, not an assumed pass
    assert "This is review round 2." in task_of(second_review)
    assert "mul has no docstring" in task_of(second_review)  # its own findings, to check first


def test_request_changes_every_time_fails_after_two_cycles(calc_repo: Path) -> None:
    reviewer = [verdict("REQUEST_CHANGES", f"- still wrong ({i})") for i in range(4)]
    state = state_of(run(calc_repo, feature_script({"reviewer": reviewer})))

    assert state["status"] == "failed"
    assert "reviewer" in state["error"]
    assert "2 remediation cycle(s)" in state["error"]
    assert state["agents"]["reviewer"]["runs"] == 3
    assert state["agents"]["implementer"]["runs"] == 3
    assert state["commit"]  # the work is kept


def test_missing_verdict_once_counts_as_request_changes(calc_repo: Path) -> None:
    # the re-ask inside the reviewer's turn gets no verdict either (issue 20): then it counts as a request
    reviewer = [final("Looks fine to me."), final("It is fine."), final(APPROVE)]
    state = state_of(run(calc_repo, feature_script({"reviewer": reviewer})))

    assert state["status"] == "done", state.get("error")
    assert state["agents"]["reviewer"]["runs"] == 2
    assert state["agents"]["implementer"]["runs"] == 2
    _, second = session_runs(state["agents"]["implementer"]["session_file"])
    assert "No VERDICT line" in task_of(second)


def test_a_verdict_given_when_asked_again_needs_no_remediation(calc_repo: Path) -> None:
    """Issue 20: a reviewer that forgets its verdict line is asked for it in the same turn, not sent round a cycle."""
    reviewer = [final("Checked calc/__init__.py; mul is right and tested."), final("VERDICT: APPROVED")]
    state = state_of(run(calc_repo, feature_script({"reviewer": reviewer})))

    assert state["status"] == "done", state.get("error")
    assert state["agents"]["reviewer"]["runs"] == 1
    assert state["agents"]["implementer"]["runs"] == 1


def test_missing_verdict_twice_fails_the_reviewer(calc_repo: Path) -> None:
    reviewer = [final("Looks fine to me."), final("Fine."), final("Still fine."), final("Fine."), final(APPROVE)]
    state = state_of(run(calc_repo, feature_script({"reviewer": reviewer})))

    assert state["status"] == "failed"
    assert state["agents"]["reviewer"]["status"] == "failed"
    assert "VERDICT" in state["agents"]["reviewer"]["error"]
    assert "reviewer" in state["error"]
    assert state["agents"]["reviewer"]["runs"] == 2


# ---------------------------------------------------------------- 6. a dirty user tree
def test_dirty_user_tree_is_left_exactly_as_it_was(calc_repo: Path) -> None:
    repo = calc_repo
    (repo / "README.md").write_text("# calc\n\nUnstaged edit by the user.\n", encoding="utf-8")
    (repo / "scratch.txt").write_text("untracked notes\n", encoding="utf-8")
    source = repo / "calc" / "__init__.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# staged by the user\n", encoding="utf-8")
    git(repo, "add", "calc/__init__.py")
    (repo / "notes.txt").write_text("staged new file\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    settle(repo)
    before = checkout_snapshot(repo)
    assert before["diff"] and before["diff_cached"] and "?? scratch.txt" in before["status"]

    state = state_of(run(repo, feature_script()))

    assert state["status"] == "done", state.get("error")
    assert checkout_snapshot(repo) == before
    branch = state["branch"]
    assert git(repo, "show", "--name-only", "--format=", branch).split() == ["calc/__init__.py", "tests/test_calc.py"]
    committed = git(repo, "show", f"{branch}:calc/__init__.py")
    assert "def mul" in committed
    assert "staged by the user" not in committed
    assert "Unstaged edit" not in git(repo, "show", f"{branch}:README.md")
    tree = git(repo, "ls-tree", "-r", "--name-only", branch).split()
    assert "scratch.txt" not in tree and "notes.txt" not in tree


# ---------------------------------------------------------------- 7. escaping the worktree
def test_tool_calls_outside_the_worktree_are_refused_and_the_run_goes_on(calc_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("SECRET-OUTSIDE\n", encoding="utf-8")
    escaped = tmp_path / "escaped.txt"
    worktree_escape = "../../../../escape.txt"  # from the worktree root: the repo's parent
    (calc_repo / "shortcut").symlink_to(tmp_path, target_is_directory=True)  # a committed symlink out
    git(calc_repo, "add", "shortcut")
    git(calc_repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "add a symlink")
    settle(calc_repo)
    implementer = [
        tools(
            call("Read", file_path="../outside.txt"),
            call("Read", file_path=str(outside)),
            call("Write", file_path=str(escaped), content="pwned\n"),
            call("Write", file_path="/tmp/x", content="pwned\n"),
            call("Write", file_path=worktree_escape, content="pwned\n"),
            call("Write", file_path=".git/hooks/post-commit", content="#!/bin/sh\necho pwned\n"),
            call("Edit", file_path="../../../README.md", old_string="calc", new_string="pwned"),  # the user's file
            call("Read", file_path="shortcut/outside.txt"),
            call("Write", file_path="shortcut/escaped.txt", content="pwned\n"),
            text="Trying some paths.",
        ),
        tools(edit_mul(), text="Adding mul."),
        final(implemented("- Added mul.")),
        final("unused"),
    ]
    tmp_x = Path("/tmp/x")
    tmp_x_before = tmp_x.read_bytes() if tmp_x.is_file() else None
    before = checkout_snapshot(calc_repo)
    result = run(calc_repo, feature_script({"implementer": implementer}))
    state = state_of(result)

    assert state["status"] == "done", state.get("error")
    assert not escaped.exists()
    assert (tmp_x.read_bytes() if tmp_x.is_file() else None) == tmp_x_before
    assert not (tmp_path / "escape.txt").exists()
    assert outside.read_text(encoding="utf-8") == "SECRET-OUTSIDE\n"
    assert not (calc_repo / ".git" / "hooks" / "post-commit").exists()
    worktree_git = Path(state["worktree"]) / ".git"
    assert worktree_git.is_file()  # a worktree's .git is a pointer file, untouched
    assert checkout_snapshot(calc_repo) == before

    session = Path(state["agents"]["implementer"]["session_file"]).read_text(encoding="utf-8")
    assert session.count("← ERROR") == 10  # with the Read the scripted agent makes before its outside Edit
    assert "resolves outside the repository" in session  # the symlink
    assert "SECRET-OUTSIDE" not in session
    implementer_record = next(r for r in metrics_of(result, "agent") if r["agent"] == "implementer")
    assert implementer_record["tool_calls"] == {"Read": 5, "Write": 5, "Edit": 2}
    assert implementer_record["turns"] == 3
    assert git(calc_repo, "show", "--name-only", "--format=", state["branch"]).split() == [
        "calc/__init__.py",
        "tests/test_calc.py",
    ]


# ---------------------------------------------------------------- setup edge cases
def test_a_provider_object_without_a_configured_provider_is_a_usage_error(calc_repo: Path) -> None:
    before = checkout_snapshot(calc_repo)
    branches = git(calc_repo, "branch", "--list")
    with pytest.raises(UserError, match="no model provider") as caught:
        run_feature(REQUEST, calc_repo, CliOverrides(), provider=ScriptedProvider(feature_script()))
    assert "autodev demo" in (caught.value.hint or "")
    assert not (calc_repo / ".autodev" / "runs").exists()
    assert not (calc_repo / ".autodev" / "worktrees").exists()
    assert git(calc_repo, "branch", "--list") == branches
    assert checkout_snapshot(calc_repo) == before


def test_commits_with_a_fallback_identity_when_git_has_none(calc_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    state = state_of(run(calc_repo, feature_script()))
    assert state["status"] == "done", state.get("error")
    assert git(calc_repo, "log", "-1", "--format=%an <%ae>", state["branch"]).strip() == "autodev <autodev@localhost>"
