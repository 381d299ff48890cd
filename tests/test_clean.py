"""`autodev clean` removes finished runs' worktrees and never a done run's result unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripts import CALC_FILES, REQUEST, edit_mul_test, error, feature_script, git, tools

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider


def _run(repo: Path, script: dict[str, object]) -> str:
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))
    return result.state.run_id


def test_clean_removes_worktrees_keeps_done_branches_and_drops_empty_failed_ones(
    make_repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    done = _run(repo, feature_script())
    # cut off with its edit uncommitted: the run keeps its worktree (a run that changed nothing does not)
    failed = _run(repo, feature_script({"test-master": [tools(edit_mul_test()), error("boom")]}))
    assert (repo / ".autodev" / "worktrees" / done).is_dir()
    assert (repo / ".autodev" / "worktrees" / failed).is_dir()

    assert main(["clean", "--repo", str(repo), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not (repo / ".autodev" / "worktrees" / done).exists()
    assert not (repo / ".autodev" / "worktrees" / failed).exists()
    branches = git(repo, "branch", "--list", "autodev/*")
    assert f"autodev/{done}" in branches  # the result stays
    assert f"autodev/{failed}" not in branches  # nothing of its own: removed
    assert f"autodev/{failed}" in result["branches"]
    assert len(result["patches"]) == 1  # its uncommitted edit, saved before its worktree went
    assert "worktrees" not in git(repo, "worktree", "list").replace(str(repo), "")
    assert (repo / ".autodev" / "runs" / done / "state.json").is_file()  # reports still work

    assert main(["clean", "--purge", "--repo", str(repo)]) == 0
    assert git(repo, "branch", "--list", "autodev/*").strip() == ""
    assert not (repo / ".autodev" / "runs" / done).exists()
    assert git(repo, "status", "--porcelain") == ""


def test_clean_leaves_running_runs_alone(make_repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(CALC_FILES)
    run_id = _run(repo, feature_script())
    state_file = repo / ".autodev" / "runs" / run_id / "state.json"
    state = json.loads(state_file.read_text())
    state["status"] = "running"
    state_file.write_text(json.dumps(state))
    assert main(["clean", "--repo", str(repo)]) == 0
    assert (repo / ".autodev" / "worktrees" / run_id).is_dir()
    assert "still marked running" in capsys.readouterr().out
    assert main(["clean", "--force", "--repo", str(repo)]) == 0
    assert not (repo / ".autodev" / "worktrees" / run_id).exists()
