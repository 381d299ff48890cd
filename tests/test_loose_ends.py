"""A newcomer's loose ends (issue 21): each what was seen, and that it is gone.

- the scripted model's "no price known" warnings were said twice, once with a ↻ that reads as a retry;
- a typo or docs run warned "no test command configured and no tests found" although both exist;
- agents skipped by policy turned `cancelled: not run: planner did not finish` when an earlier agent failed;
- a failed run that changed nothing left its branch and worktree behind;
- a Claude Code agent file (`code-reviewer`) loaded and went silently unused;
- every `autodev demo` left a folder in the temporary directory;
- `autodev clean` said "director(y/ies)".
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripts import CALC_FILES, append_to, error, feature_script, final, git, tools

from autodev.apps.cli.common import counted
from autodev.apps.cli.main import main
from autodev.apps.demo import demo_place
from autodev.core import gitops
from autodev.engines.local.run import DROPPED
from autodev.run.cleanup import drop_if_unchanged
from autodev.run.graph import FEATURE_PIPELINE
from autodev.run.scheduler import run_graph
from autodev.run.state import RunState

TYPO_REQUEST = "Fix the typo 'calulator' in README.md"
README_FIX = append_to("README.md", "A tiny calculator.\n", "It adds numbers.\n")
MakeRepo = Callable[..., Path]


def scripted_run(repo: Path, tmp_path: Path, script: dict[str, Any], request: str = TYPO_REQUEST) -> int:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return main(["run", request, "--repo", str(repo), "--provider", "scripted", "--script", str(path)])


def run_state(repo: Path) -> dict[str, Any]:
    (state_file,) = (repo / ".autodev" / "runs").glob("*/state.json")
    loaded: dict[str, Any] = json.loads(state_file.read_text())
    return loaded


# ------------------------------------------------------------------------------------------ one typo run
def test_a_typo_run_says_each_price_warning_once_and_no_false_test_warning(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The repository has a test command and tests; the typo run skips its gate by policy."""
    repo = make_repo(CALC_FILES)
    script = feature_script({"implementer": [tools(README_FIX), final("## Changes\n- README typo.")]})
    assert scripted_run(repo, tmp_path, script) == 0
    captured = capsys.readouterr()
    said = captured.out + captured.err
    state = run_state(repo)
    assert state["gate"]["status"] == "skipped" and "typo" in state["gate"]["reason"]
    models = {agent["model"] for agent in state["agents"].values() if agent["status"] == "done"}
    assert models, "the run used scripted models"
    for model in models:
        warning = f"no price known for model {model!r}"
        assert said.count(warning) == 1, said  # once per model: with the run's outcome, where its cost is
    assert not [line for line in said.splitlines() if "↻" in line and "no price known" in line]
    assert "no test command configured" not in said
    assert not [warning for warning in state["warnings"] if "analyser tests" in warning]


# ------------------------------------------------------------------------------------------ a failed run
def test_a_failed_run_keeps_skipped_agents_skipped_and_drops_an_unchanged_worktree(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    script = feature_script({"planner": [error("the model is down"), final("## Plan\n1. Fix the typo.")]})
    assert scripted_run(repo, tmp_path, script) == 1
    said = capsys.readouterr().out
    state = run_state(repo)
    agents = state["agents"]
    assert state["status"] == "failed"
    for name in ("researcher-local", "researcher-web", "test-master"):  # skipped for a typo request
        assert agents[name]["status"] == "skipped", agents[name]
        assert "typo" in agents[name]["reason"]
    assert agents["implementer"] == {**agents["implementer"], "status": "cancelled"}
    assert agents["implementer"]["reason"] == "not run: planner did not finish"
    assert "test-master not run" not in said and "test-master       not run" not in said
    # nothing changed: nothing left to look at, and the outcome does not point at it
    assert not Path(state["worktree"]).exists()
    assert not gitops.branch_exists(repo, state["branch"])
    assert DROPPED in state["warnings"]
    assert "worktree       " not in said and "(no changes were made)" not in said
    # resumable all the same: resume makes the worktree and branch again and finishes
    assert main(["resume", state["run_id"], "--repo", str(repo)]) == 0
    resumed = run_state(repo)
    assert resumed["status"] == "done"
    assert gitops.branch_exists(repo, resumed["branch"])


def test_drop_if_unchanged_keeps_work_to_inspect(make_repo: MakeRepo) -> None:
    repo = make_repo(CALC_FILES)
    base = gitops.head_commit(repo)

    def failed_run(name: str) -> RunState:
        worktree = repo / ".autodev" / "worktrees" / name
        gitops.add_worktree(repo, worktree, f"autodev/{name}", base)
        return RunState(name, "r", str(repo), str(worktree), f"autodev/{name}", base, status="failed")

    untouched, edited, committed, done = (failed_run(n) for n in ("untouched", "edited", "committed", "done"))
    (Path(edited.worktree) / "calc" / "new.py").write_text("x = 1\n")
    (Path(committed.worktree) / "README.md").write_text("changed\n")
    git(Path(committed.worktree), "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "checkpoint")
    done.status = "done"
    assert drop_if_unchanged(untouched)
    assert not Path(untouched.worktree).exists() and not gitops.branch_exists(repo, untouched.branch)
    for kept in (edited, committed, done):
        assert not drop_if_unchanged(kept)
        assert Path(kept.worktree).is_dir() and gitops.branch_exists(repo, kept.branch)


def test_a_skipped_agent_passes_a_failure_on_and_stays_skipped() -> None:
    blocked: dict[str, str] = {}

    async def run_one(name: str) -> bool:
        return name != "planner"

    async def main_() -> dict[str, bool]:
        return await run_graph(
            FEATURE_PIPELINE,
            FEATURE_PIPELINE.build_phase(),
            run_one,
            max_parallel=2,
            on_blocked=blocked.__setitem__,
            skipped={"test-master"},
        )

    results = anyio.run(main_)
    assert "test-master" not in blocked  # skipped, not blocked
    assert results["test-master"] is False  # yet what needs it does not run without a plan
    assert blocked == {"implementer": "not run: planner did not finish"}


# ------------------------------------------------------------------------------------------ agent files
CODE_REVIEWER = """---
name: code-reviewer
description: Reviews code for quality and best practices. Use after writing code.
tools: Read, Grep, Glob
---
You review code.
"""


def test_an_agent_file_no_pipeline_runs_is_named_with_how_to_wire_it(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({**CALC_FILES, ".claude/agents/code-reviewer.md": CODE_REVIEWER})
    assert main(["plan", TYPO_REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    warned = capsys.readouterr().err
    assert "agent 'code-reviewer' (.claude/agents/code-reviewer.md) is loaded but no pipeline runs it" in warned
    assert "as the reviewer, put it in [pipeline] in place of reviewer" in warned.replace("\n", " ")

    assert main(["agents", "--json", "--repo", str(repo), "--provider", "scripted"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["agents"]}
    assert rows["code-reviewer"]["in_pipeline"] is False
    assert all(row["in_pipeline"] for name, row in rows.items() if name != "code-reviewer")

    assert main(["agents", "--repo", str(repo), "--provider", "scripted"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("○ code-reviewer") for line in listed)
    assert any(line.startswith("● reviewer") for line in listed)


# ------------------------------------------------------------------------------------------ small things
def test_clean_counts_in_words(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert [counted(1, "run directory", "run directories"), counted(2, "branch", "branches")] == [
        "1 run directory",
        "2 branches",
    ]
    repo = make_repo(CALC_FILES)
    assert main(["clean", "--repo", str(repo)]) == 0
    assert "removed 0 worktrees, 0 branches, 0 run directories" in capsys.readouterr().out


def test_demos_reuse_one_folder_and_never_remove_a_live_one(tmp_path: Path) -> None:
    home = tmp_path / "autodev-demo-home"
    with demo_place(home) as first:
        assert first is not None and first.parent == home
        (first / "textkit").mkdir()
        with demo_place(home) as second:  # a demo running alongside: the first is live, so it stays
            assert second is not None and first.is_dir()
    with demo_place(home) as third:  # both earlier demos are over: their folders go
        assert third is not None
        assert sorted(path.name for path in home.iterdir() if path.is_dir()) == [third.name]
    assert third.is_dir()  # kept after the demo, to look at, until the next one


def test_a_demo_home_of_someone_else_is_not_used(tmp_path: Path) -> None:
    home = tmp_path / "shared"
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    with demo_place(home) as place:
        assert place is None
    assert list(home.iterdir()) == []
