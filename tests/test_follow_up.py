"""Follow-ups and undo (issue 18, item 4), end to end with real git and the scripted model.

`autodev run --continue RUN_ID "also ..."` adds a second commit on the same branch, the earlier run's
research reused (the researchers don't run again); `autodev undo RUN_ID` removes a run's branch,
worktree and records, refuses a live run and (without --force) a pushed branch, and takes a follow-up
back to where it started without touching the run it continued.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gh_fake import PR_URL, add_bare_origin, install_fake_gh, remote_branch
from scripts import CALC_FILES, REQUEST, TESTS_WRITTEN, call, feature_script, final, git, implemented, settle, tools

from autodev.apps.cli.main import main
from autodev.core.locks import FileLock, run_lock_path

SUB_TEST = (
    "import unittest\n\nfrom calc.sub import sub\n\n\n"
    "class SubTests(unittest.TestCase):\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n"
)
SUB_IMPL = "def sub(a, b):\n    return a - b\n"
NOT_AGAIN = "## Local findings\n- THE RESEARCHER RAN AGAIN"


@pytest.fixture
def repo(make_repo: Any) -> Path:
    path: Path = make_repo(CALC_FILES)
    settle(path)
    return path


def write_script(tmp_path: Path, name: str, script: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def follow_up_script(tmp_path: Path) -> Path:
    return write_script(
        tmp_path,
        "follow-up.json",
        feature_script(
            {
                "researcher-local": [final(NOT_AGAIN)],
                "researcher-web": [final(NOT_AGAIN)],
                "planner": [
                    final("## Goal\nAdd sub.\n## Changes\n1. Add calc/sub.py.\n## Tests to write\n- tests/test_sub.py.")
                ],
                "test-master": [
                    tools(call("Write", file_path="tests/test_sub.py", content=SUB_TEST)),
                    final(TESTS_WRITTEN),
                ],
                "implementer": [
                    tools(call("Write", file_path="calc/sub.py", content=SUB_IMPL)),
                    final(implemented("- Added calc/sub.py.")),
                ],
            }
        ),
    )


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    state: dict[str, Any] = json.loads(printed)
    return state


def first_run(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    script = write_script(tmp_path, "first.json", feature_script())
    argv = ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), *extra]
    return run_json(capsys, argv)


def records(repo: Path, run_id: str) -> list[dict[str, Any]]:
    lines = (repo / ".autodev" / "runs" / run_id / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_continue_adds_a_second_commit_on_the_same_branch_reusing_the_research(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    first = first_run(repo, tmp_path, capsys)
    argv = ["run", "--continue", first["run_id"], "also add sub(a, b) in calc/sub.py", "--repo", str(repo)]
    second = run_json(capsys, [*argv, "--provider", "scripted", "--script", str(follow_up_script(tmp_path))])

    branch = first["branch"]
    assert second["branch"] == branch and second["run_id"] != first["run_id"]
    assert second["base_commit"] == first["commit"] and second["options"]["continues"] == first["run_id"]
    assert git(repo, "rev-parse", branch).strip() == second["commit"]
    assert git(repo, "rev-parse", f"{branch}~1").strip() == first["commit"]  # one more commit on top
    assert git(repo, "rev-list", "--count", f"{base}..{branch}").strip() == "2"
    assert git(repo, "show", f"{branch}:calc/sub.py") == SUB_IMPL
    assert "def mul" in git(repo, "show", f"{branch}:calc/__init__.py")  # the first change is still there
    for name in ("researcher-local", "researcher-web"):
        reused = second["agents"][name]
        assert reused["status"] == "done" and reused["runs"] == 0
        assert reused["handoff"] == first["agents"][name]["handoff"] and NOT_AGAIN not in reused["handoff"]
        assert reused["reason"] == f"reused from run {first['run_id']}"
    ran = {r["agent"] for r in records(repo, second["run_id"]) if r["kind"] == "agent"}
    assert "researcher-local" not in ran and "researcher-web" not in ran and {"planner", "implementer"} <= ran
    planner_session = (repo / ".autodev" / "runs" / second["run_id"] / "sessions" / "planner.md").read_text()
    assert "Test `mul` in tests/test_calc.py" in planner_session  # the earlier plan, in front of the new planner
    assert not Path(first["worktree"]).exists()  # a branch is checked out in one worktree at a time
    assert git(repo, "status", "--porcelain") == ""  # the user's checkout untouched

    # undo the follow-up: only its commit goes; the first run keeps its branch and records
    capsys.readouterr()
    assert main(["undo", first["run_id"], "--repo", str(repo)]) == 2  # the follow-up continues its branch
    assert f"autodev undo {second['run_id']}" in capsys.readouterr().err
    assert main(["undo", second["run_id"], "--repo", str(repo)]) == 0
    assert git(repo, "rev-parse", branch).strip() == first["commit"]
    assert not (repo / ".autodev" / "runs" / second["run_id"]).exists()
    assert not Path(second["worktree"]).exists()
    assert (repo / ".autodev" / "runs" / first["run_id"] / "state.json").is_file()


def test_continue_refuses_what_it_cannot_continue(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = first_run(repo, tmp_path, capsys)
    assert main(["run", "--continue", state["run_id"], "--repo", str(repo)]) == 2  # no follow-up request
    assert "--continue RUN_ID takes the follow-up as REQUEST" in capsys.readouterr().err
    state_file = repo / ".autodev" / "runs" / state["run_id"] / "state.json"
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    state_file.write_text(json.dumps({**saved, "status": "failed"}), encoding="utf-8")
    assert main(["run", "--continue", state["run_id"], "also X", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "is failed, not done" in err and f"autodev resume {state['run_id']}" in err


def test_undo_removes_the_branch_worktree_and_records(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = first_run(repo, tmp_path, capsys)
    run_dir = repo / ".autodev" / "runs" / state["run_id"]
    with FileLock(run_lock_path(run_dir)):  # a live run is never touched, --force or not
        assert main(["undo", state["run_id"], "--repo", str(repo), "--force"]) == 2
        assert "is running" in capsys.readouterr().err
    assert run_dir.is_dir() and Path(state["worktree"]).is_dir()
    tree = Path(state["worktree"])  # a commit of the user's on the run's branch: undo would drop it too
    (tree / "notes.txt").write_text("mine\n", encoding="utf-8")
    git(tree, "add", "notes.txt")
    git(tree, "-c", "user.name=U", "-c", "user.email=u@example.invalid", "commit", "-q", "-m", "mine")
    assert main(["undo", state["run_id"], "--repo", str(repo)]) == 2
    assert f"branch {state['branch']} moved since run {state['run_id']} left it" in capsys.readouterr().err
    assert main(["undo", state["run_id"], "--repo", str(repo), "--force"]) == 0
    said = capsys.readouterr().out
    assert f"branch {state['branch']}" in said
    assert not run_dir.exists() and not Path(state["worktree"]).exists()
    assert git(repo, "branch", "--list", state["branch"]) == ""
    assert state["worktree"] not in git(repo, "worktree", "list")


def test_undo_refuses_a_pushed_branch_without_force(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = add_bare_origin(repo, tmp_path / "remote.git")
    state = first_run(repo, tmp_path, capsys, "--push")
    assert state["published"]["branch"] == state["branch"]
    assert main(["undo", state["run_id"], "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "was pushed to origin" in err and "--force" in err
    assert git(repo, "rev-parse", state["branch"]).strip() == state["commit"]  # nothing removed
    assert main(["undo", state["run_id"], "--repo", str(repo), "--force"]) == 0
    said = capsys.readouterr().out
    assert f"git push origin --delete {state['branch']}" in said
    assert git(repo, "branch", "--list", state["branch"]) == ""
    assert remote_branch(remote, state["branch"]) == state["commit"]  # the remote is never touched


def test_a_follow_up_of_a_pull_request_pushes_its_commit_to_the_same_branch(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = add_bare_origin(repo, tmp_path / "remote.git")
    gh = install_fake_gh(tmp_path, monkeypatch, {})
    first = first_run(repo, tmp_path, capsys, "--pr")
    assert first["published"]["pull_request"] == PR_URL
    argv = ["run", "--continue", first["run_id"], "also add sub(a, b) in calc/sub.py", "--repo", str(repo), "--pr"]
    capsys.readouterr()
    code = main([*argv, "--provider", "scripted", "--script", str(follow_up_script(tmp_path)), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    second = json.loads(captured.out)
    assert f"the branch's pull request {PR_URL} gets the follow-up's commit: pushing only" in captured.err
    assert len(gh.calls_of("pr", "create")) == 1  # the pull request is the first run's; no second one
    assert remote_branch(remote, first["branch"]) == second["commit"]
    title = git(repo, "log", "-1", "--format=%s", second["commit"]).strip()
    assert title == "autodev: also add sub(a, b) in calc/sub.py"  # the follow-up's own title
