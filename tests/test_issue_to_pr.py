"""From an issue to a pull request (issue 18, items 1 and 2), end to end: a real repository with a bare
local remote as `origin`, a fake `gh` on PATH that records its calls, and the scripted model.

issue -> `autodev run --issue 7 --pr` -> the branch on the remote -> one `gh pr create` whose body
says what changed and why, the tests, the verdicts, the agents, time and cost, and `Closes #7`.
Without gh or without a remote the run's branch is kept and the error says the commands to run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gh_fake import PR_URL, add_bare_origin, comment, install_fake_gh, issue_json, path_without_gh, remote_branch
from scripts import (
    CALC_FILES,
    MUL_TEST,
    TESTS_WRITTEN,
    WEB_NOTES,
    call,
    error,
    feature_script,
    final,
    git,
    settle,
    tools,
)

from autodev.apps.cli.main import main
from autodev.run.publish.issue_in import OUTCOME_MARKER, read_issue
from autodev.run.publish.publish import _credential_flags

ISSUE_TITLE = "Multiply two numbers"
ISSUE_BODY = "calc can add but not multiply.\n\nAdd `mul(a, b)` next to `add`."
NEW_TEST = "import unittest\n\nfrom calc import mul\n" + MUL_TEST.replace("        from calc import mul\n\n", "")
MODELS = ("fast=claude-haiku-5-5", "balanced=claude-sonnet-5-5", "deep=claude-opus-5-5")  # priced: the body has costs
SECTIONS = ("## What changed and why", "## Tests", "## Review", "## Agents", "## Time and cost")


@pytest.fixture
def repo(make_repo: Any, tmp_path: Path) -> Path:
    """The calc project, its `main` pushed to a bare repository that is its `origin`."""
    path = make_repo(CALC_FILES)
    add_bare_origin(path, tmp_path / "remote.git")
    settle(path)
    return path


@pytest.fixture
def issues() -> dict[int, dict[str, Any]]:
    comments = [
        comment("ana", "Please keep it a plain function.", "MEMBER"),
        comment("autodev-bot", f"{OUTCOME_MARKER}\nautodev: run failed earlier"),
    ]
    return {7: issue_json(7, ISSUE_TITLE, ISSUE_BODY, labels=["enhancement"], comments=comments)}


def script_file(tmp_path: Path) -> Path:
    """The feature script, with test-master writing a new test file (the body lists new test files)."""
    script = feature_script(
        {
            "test-master": [
                tools(call("Write", file_path="tests/test_mul.py", content=NEW_TEST)),
                final(TESTS_WRITTEN),
            ]
        }
    )
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def run(repo: Path, tmp_path: Path, *args: str) -> int:
    argv = ["run", *args, "--repo", str(repo), "--provider", "scripted", "--script", str(script_file(tmp_path))]
    return main([*argv, *(f"--model={model}" for model in MODELS), "--json"])


def trailers(repo: Path, commit: str) -> str:
    message = git(repo, "log", "-1", "--format=%B", commit)
    return subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout


def test_issue_to_pull_request(
    repo: Path,
    tmp_path: Path,
    issues: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh = install_fake_gh(tmp_path, monkeypatch, issues)
    code = run(repo, tmp_path, "--issue", "7", "--pr")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    state = json.loads(captured.out)
    assert state["status"] == "done"

    # issue in: read through gh, made the request, recorded in state.json
    (view,) = gh.calls_of("issue", "view")
    assert view["argv"] == ["issue", "view", "7", "--json", "title,body,labels,comments,number,url"]
    assert Path(view["cwd"]) == repo
    assert state["issue"] == {
        "title": ISSUE_TITLE,
        "number": 7,
        "url": "https://github.com/octo/calc/issues/7",
        "file": None,
    }
    request = state["request"]
    assert request.startswith(ISSUE_TITLE + "\n\n" + ISSUE_BODY)
    assert "Labels: enhancement" in request
    assert "@ana (member) wrote:\nPlease keep it a plain function." in request
    assert OUTCOME_MARKER not in request and "run failed earlier" not in request  # autodev's own comment

    # pushed: the branch is on the bare remote, at the run's commit
    branch = state["branch"]
    assert remote_branch(tmp_path / "remote.git", branch) == state["commit"]
    assert state["published"]["remote"] == "origin" and state["published"]["commit"] == state["commit"]
    assert state["published"]["pull_request"] == PR_URL
    assert PR_URL in captured.err or PR_URL in json.dumps(state)

    # exactly one pull request, with the body built from the run's record
    (create,) = gh.calls_of("pr", "create")
    argv = create["argv"]
    assert argv[argv.index("--head") + 1] == branch
    assert argv[argv.index("--base") + 1] == "main"
    assert argv[argv.index("--title") + 1] == ISSUE_TITLE
    assert "--draft" not in argv
    body = create["body"]
    assert Path(argv[argv.index("--body-file") + 1]).read_text(encoding="utf-8") == body
    positions = [body.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "## Plan\n" not in body and "Plan** (planner)" in body and "Test `mul` in tests/test_calc.py" in body
    assert "Added `mul(a, b)` to calc/__init__.py" in body  # the implementer's summary
    assert "calc/__init__.py" in body and "tests/test_mul.py" in body  # the diff stat
    if (state.get("baseline") or {}).get("status") == "recorded":  # the tests at the base, then after the change
        assert "- Before (base " in body and "1 passed, 0 failed (1 test, unittest)" in body
        assert "- After: **passed**: 2 passed, 0 failed (2 tests, unittest)" in body
    else:
        assert "- Test gate: **passed**: 2 passed, 0 failed (2 tests, unittest)" in body
    assert "New test files: `tests/test_mul.py`" in body
    assert "**reviewer**: APPROVE" in body and "does what the request asks" in body
    assert "**security-auditor**: APPROVE" in body
    for agent in ("researcher-local", "planner", "test-master", "implementer", "reviewer", "doc-master"):
        assert f"| {agent} | done |" in body
    assert "Model calls: 10;" in body and f"Cost: ${state['cost_usd']:.4f}" in body and "Wall time:" in body
    assert "| planner | done | claude-sonnet-5-5 | 1 |" in body
    assert body.rstrip().splitlines()[-3] == "Closes #7"

    # the commit: title, a real body, trailers naming autodev and the models
    subject = git(repo, "log", "-1", "--format=%s", state["commit"]).strip()
    assert subject == f"autodev: {ISSUE_TITLE}"
    message = git(repo, "log", "-1", "--format=%b", state["commit"])
    assert "Summary (implementer):" in message and "Decisions (planner):" in message
    parsed = trailers(repo, state["commit"])
    assert f"Autodev-Run: {state['run_id']}" in parsed and "Refs: #7" in parsed
    models = sorted({agent["model"] for agent in state["agents"].values() if agent["runs"]})
    (generated,) = [line for line in parsed.splitlines() if line.startswith("Generated-by: autodev ")]
    assert all(model in generated for model in models)


def test_issue_from_a_markdown_file_pushed_without_gh(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", path_without_gh())  # --push needs no gh
    issue = tmp_path / "mul.md"
    issue.write_text(f"Some preamble.\n\n# {ISSUE_TITLE}\n\n{ISSUE_BODY}\n", encoding="utf-8")
    code = run(repo, tmp_path, "--issue", str(issue), "--push", "also keep add as it is")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    state = json.loads(captured.out)
    assert state["issue"] == {"title": ISSUE_TITLE, "number": None, "url": None, "file": str(issue)}
    assert state["request"] == f"{ISSUE_TITLE}\n\n{ISSUE_BODY}\n\nFurther instructions:\nalso keep add as it is"
    assert remote_branch(tmp_path / "remote.git", state["branch"]) == state["commit"]
    assert state["published"]["pull_request"] is None
    assert "Refs:" not in trailers(repo, state["commit"])


def test_pr_without_gh_keeps_the_branch_and_says_the_commands(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", path_without_gh())
    issue = tmp_path / "mul.md"
    issue.write_text(f"# {ISSUE_TITLE}\n\n{ISSUE_BODY}\n", encoding="utf-8")
    code = run(repo, tmp_path, "--issue", str(issue), "--pr")
    captured = capsys.readouterr()
    assert code == 2
    state = json.loads(captured.out)
    assert state["status"] == "done" and state["published"] is None
    branch = state["branch"]
    assert git(repo, "rev-parse", branch).strip() == state["commit"]  # the work is kept
    assert remote_branch(tmp_path / "remote.git", branch) is None  # nothing half-published
    assert "not published: --pr needs the GitHub CLI (gh), which is not installed" in captured.err
    assert "the GitHub CLI (gh) is not installed" in captured.err  # said before the run too
    body_file = repo / ".autodev" / "runs" / state["run_id"] / "pull-request.md"
    assert f"git push origin {branch}" in captured.err
    assert f"gh pr create --head {branch} --base main" in captured.err
    assert f"--body-file {body_file}" in captured.err
    assert "## What changed and why" in body_file.read_text(encoding="utf-8")


def test_push_without_a_remote_keeps_the_branch_and_says_the_commands(
    make_repo: Any,
    tmp_path: Path,
    issues: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_repo(CALC_FILES)
    gh = install_fake_gh(tmp_path, monkeypatch, issues)
    code = run(repo, tmp_path, "--issue", "#7", "--pr")
    captured = capsys.readouterr()
    assert code == 2
    state = json.loads(captured.out)
    assert state["status"] == "done" and state["published"] is None
    assert git(repo, "rev-parse", state["branch"]).strip() == state["commit"]
    assert "no git remote named 'origin'" in captured.err
    assert "git remote add origin URL" in captured.err
    assert f"git push origin {state['branch']}" in captured.err
    assert gh.calls_of("pr", "create") == []


def test_a_failed_pull_request_leaves_the_pushed_branch_and_says_the_rest(
    repo: Path,
    tmp_path: Path,
    issues: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh = install_fake_gh(tmp_path, monkeypatch, issues)
    gh.fail("pr create", "pull request create failed: GraphQL: Resource not accessible by integration")
    code = run(repo, tmp_path, "--issue", "7", "--pr", "--draft")
    captured = capsys.readouterr()
    assert code == 2
    state = json.loads(captured.out)
    assert remote_branch(tmp_path / "remote.git", state["branch"]) == state["commit"]
    assert state["published"]["pull_request"] is None and state["published"]["draft"] is True
    assert "Resource not accessible by integration" in captured.err
    assert "git push" not in captured.err and "gh pr create --head" in captured.err and "--draft" in captured.err


def test_an_issue_number_without_gh_stops_before_anything_is_written(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", path_without_gh())
    assert run(repo, tmp_path, "--issue", "7") == 2
    err = capsys.readouterr().err
    assert "--issue 7 needs the GitHub CLI (gh)" in err and "--issue FILE.md" in err
    assert not (repo / ".autodev" / "runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draft"], "--draft needs --pr"),
        (["--remote", "upstream"], "--remote needs --push or --pr"),
        ([], "say what to do"),
        (["--issue", "no-such-file.md"], "no such file"),
        (["--issue", "8"], "gh could not read issue 8"),
    ],
)
def test_bad_publishing_input_exits_2_and_writes_nothing(
    repo: Path,
    tmp_path: Path,
    issues: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    install_fake_gh(tmp_path, monkeypatch, issues)
    extra = [] if any(a.startswith("--issue") for a in args) or message == "say what to do" else ["add mul"]
    assert run(repo, tmp_path, *extra, *args) == 2
    assert message in capsys.readouterr().err
    assert not (repo / ".autodev" / "runs").exists()


def test_the_push_runs_no_hook_and_only_the_users_global_credential_helpers(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", path_without_gh())
    marker = tmp_path / "hook-ran"
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    hook.chmod(0o755)
    git(repo, "config", "credential.helper", "!touch /nonexistent-from-repo")
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text('[credential "https://example.invalid"]\n\thelper = store\n', encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    settle(repo)

    code = run(repo, tmp_path, "add mul", "--push")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    state = json.loads(captured.out)
    assert remote_branch(tmp_path / "remote.git", state["branch"]) == state["commit"]
    assert not marker.exists()  # the user's pre-push hook did not run
    assert _credential_flags(repo) == ["-c", "credential.https://example.invalid.helper=store"]


def test_a_failed_run_is_not_published_and_its_resume_publishes_it(
    repo: Path,
    tmp_path: Path,
    issues: dict[int, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh = install_fake_gh(tmp_path, monkeypatch, issues)
    script = tmp_path / "failing.json"
    replies = feature_script({"researcher-web": [error("boom"), final(WEB_NOTES)]})
    script.write_text(json.dumps(replies), encoding="utf-8")
    argv = ["run", "--issue", "7", "--pr", "--repo", str(repo), "--provider", "scripted", "--script", str(script)]
    assert main([*argv, "--json"]) == 1
    captured = capsys.readouterr()
    state = json.loads(captured.out)
    assert state["status"] == "failed" and state["published"] is None
    assert state["options"]["publish"] == {"remote": "origin", "pr": True, "draft": False, "base": "main"}
    assert "not published: the run is failed" in captured.err
    assert gh.calls_of("pr", "create") == []

    assert main(["resume", state["run_id"], "--repo", str(repo), "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["status"] == "done" and resumed["published"]["pull_request"] == PR_URL
    assert remote_branch(tmp_path / "remote.git", resumed["branch"]) == resumed["commit"]
    (create,) = gh.calls_of("pr", "create")
    assert "Closes #7" in create["body"]


@pytest.mark.parametrize("reference", ["https://github.com/octo/calc/issues/7", "#7", "7"])
def test_an_issue_is_named_by_number_or_url(
    repo: Path, tmp_path: Path, issues: dict[int, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    gh = install_fake_gh(tmp_path, monkeypatch, issues)
    issue = read_issue(reference, repo)
    assert issue.ref.number == 7 and issue.ref.title == ISSUE_TITLE
    (view,) = gh.calls()
    assert view["argv"][2] == reference.lstrip("#")
