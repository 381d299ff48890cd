"""The GitHub Action's script (`python -m autodev.apps.github_action`, which action.yml runs), run locally:
a GitHub event file, a bare local remote as `origin`, a fake `gh` on PATH, and the scripted model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gh_fake import PR_URL, FakeGh, add_bare_origin, install_fake_gh, issue_json, remote_branch
from scripts import CALC_FILES, feature_script, settle

from autodev.apps.github_action import Inputs, Outcome, Trigger, autodev_argv, comment_body, trigger
from autodev.run.publish.issue_in import OUTCOME_MARKER

MODELS = "--model=fast=claude-haiku-5-5 --model=balanced=claude-sonnet-5-5 --model=deep=claude-opus-5-5"


def labelled(number: int, label: str = "autodev") -> dict[str, Any]:
    return {"action": "labeled", "label": {"name": label}, "issue": {"number": number, "title": "t"}}


def commented(number: int, body: str, association: str = "MEMBER", **issue: Any) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": number, **issue},
        "comment": {"body": body, "author_association": association, "user": {"login": "ana"}},
    }


# ---------------------------------------------------------------- which events start a run
@pytest.mark.parametrize(
    ("name", "event", "expected"),
    [
        ("issues", labelled(7), Trigger(7)),
        ("issues", labelled(7, "bug"), "was not labelled 'autodev'"),
        ("issues", {**labelled(7), "action": "unlabeled"}, "was not labelled"),
        ("issue_comment", commented(7, "/autodev"), Trigger(7)),
        ("issue_comment", commented(7, "/autodev also handle floats"), Trigger(7, "also handle floats")),
        ("issue_comment", commented(7, "/autodevx"), "does not start with /autodev"),
        ("issue_comment", commented(7, "please /autodev"), "does not start with /autodev"),
        ("issue_comment", commented(7, "/autodev", "NONE"), "no write access"),
        ("issue_comment", commented(7, "/autodev", "CONTRIBUTOR"), "no write access"),
        ("issue_comment", commented(7, "/autodev", pull_request={"url": "u"}), "is a pull request"),
        ("push", {"ref": "refs/heads/main"}, "without an issue"),
    ],
)
def test_only_a_label_or_a_command_from_a_writer_starts_a_run(
    name: str, event: dict[str, Any], expected: Trigger | str
) -> None:
    found = trigger(name, event, Inputs())
    if isinstance(expected, Trigger):
        assert found == expected
    else:
        assert isinstance(found, str) and expected in found


def test_a_comments_instructions_are_only_ever_the_requests_text() -> None:
    found = trigger("issue_comment", commented(7, "/autodev --sandbox=off"), Inputs())
    assert found == Trigger(7, "--sandbox=off")
    argv = autodev_argv(found, Inputs(args=("--full",)))
    assert argv[-3:] == ["--full", "--", "--sandbox=off"]
    assert argv.count("--sandbox=off") == 1


def test_the_outcome_comment_says_what_happened_and_is_marked() -> None:
    state = {"run_id": "r1", "status": "failed", "branch": "autodev/r1", "cost_usd": 0.5, "error": "tests failed"}
    failed = comment_body(Outcome(1, state, []))
    assert failed.startswith(OUTCOME_MARKER) and "failed" in failed and "autodev resume r1" in failed
    not_started = comment_body(Outcome(2, None, ["progress", "error: no model provider is configured", "  hint: x"]))
    assert "could not start" in not_started and "error: no model provider is configured\nhint: x" in not_started


# ---------------------------------------------------------------- the script, end to end
@pytest.fixture
def repo(make_repo: Any, tmp_path: Path) -> Path:
    path = make_repo(CALC_FILES)
    add_bare_origin(path, tmp_path / "remote.git")
    settle(path)
    return path


@pytest.fixture
def gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGh:
    issue = issue_json(7, "Multiply two numbers", "calc can add but not multiply.", labels=["autodev"])
    return install_fake_gh(tmp_path, monkeypatch, {7: issue})


def run_action(tmp_path: Path, repo: Path, name: str, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(feature_script()), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        GITHUB_EVENT_NAME=name,
        GITHUB_EVENT_PATH=str(event_file),
        AUTODEV_ACTION_REPO=str(repo),
        AUTODEV_ACTION_ARGS=MODELS,
        AUTODEV_PROVIDER="scripted",
        AUTODEV_SCRIPT=str(script),
    )
    return subprocess.run(
        [sys.executable, "-m", "autodev.apps.github_action"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_labelled_issue_becomes_a_pull_request_and_the_outcome_is_posted(
    repo: Path, tmp_path: Path, gh: FakeGh
) -> None:
    done = run_action(tmp_path, repo, "issues", labelled(7))
    assert done.returncode == 0, done.stderr
    (create,) = gh.calls_of("pr", "create")
    branch = create["argv"][create["argv"].index("--head") + 1]
    assert remote_branch(tmp_path / "remote.git", branch) is not None
    assert "Closes #7" in create["body"]
    (posted,) = gh.calls_of("issue", "comment")
    assert posted["argv"][:3] == ["issue", "comment", "7"]
    assert posted["body"].startswith(OUTCOME_MARKER)
    assert f"autodev opened {PR_URL}" in posted["body"] and branch in posted["body"]


def test_a_comment_command_adds_its_instructions_and_a_failure_to_publish_is_posted(
    repo: Path, tmp_path: Path, gh: FakeGh
) -> None:
    subprocess.run(["git", "remote", "remove", "origin"], cwd=repo, check=True)
    done = run_action(tmp_path, repo, "issue_comment", commented(7, "/autodev --keep add as it is"))
    assert done.returncode == 2
    assert gh.calls_of("pr", "create") == []
    runs = list((repo / ".autodev" / "runs").iterdir())
    state = json.loads((runs[0] / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done"
    assert state["request"].endswith("Further instructions:\n--keep add as it is")  # text, not an option
    (posted,) = gh.calls_of("issue", "comment")
    assert "could not publish" in posted["body"] and "no git remote named 'origin'" in posted["body"]
    assert f"git push origin {state['branch']}" in posted["body"]


def test_other_events_do_nothing(repo: Path, tmp_path: Path, gh: FakeGh) -> None:
    done = run_action(tmp_path, repo, "issues", labelled(7, "bug"))
    assert done.returncode == 0
    assert "nothing to do" in done.stdout
    assert gh.calls() == []
    assert not (repo / ".autodev" / "runs").exists()
