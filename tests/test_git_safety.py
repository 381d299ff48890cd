"""autodev's own git is safe from the repository (issue #16, finding 2).

A hostile repository (or test code that ran in it) can make git run programs through `.git/config`
and hooks. These tests plant each one, with a marker file and an environment dump, then run the whole
pipeline with the scripted provider: none may run, and a config changed during a run fails it.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from scripts import CALC_FILES, MUL_TEST, REQUEST, TESTS_WRITTEN, call, feature_script, final, git, settle, tools

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider

PLANTED_KEY = "sk-ant-planted-0123456789abcdef"
HOOKS = ("post-checkout", "pre-commit", "post-commit", "reference-transaction", "post-index-change")


def _script(markers: Path, name: str) -> str:
    """A shell program that leaves `markers/<name>` holding its environment."""
    return f"#!/bin/sh\nenv > '{markers}/{name}'\ncat\n"


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def hostile_repo(make_repo: Any, tmp_path: Path) -> tuple[Path, Path]:
    files = {**CALC_FILES, ".gitattributes": "*.py filter=evil diff=evil\n"}
    repo = make_repo(files)
    markers = tmp_path / "markers"
    markers.mkdir()
    programs = tmp_path / "programs"
    programs.mkdir()
    for name in ("fsmonitor", "external-diff", "textconv", "clean", "smudge", "pager", "ssh", "editor"):
        _executable(programs / name, _script(markers, name))
    for hook in HOOKS:
        _executable(repo / ".git" / "hooks" / hook, _script(markers, f"hook-{hook}"))
    for key, program in {
        "core.fsmonitor": "fsmonitor",
        "diff.external": "external-diff",
        "diff.evil.textconv": "textconv",
        "filter.evil.clean": "clean",
        "filter.evil.smudge": "smudge",
        "core.pager": "pager",
        "core.sshCommand": "ssh",
        "core.editor": "editor",
    }.items():
        git(repo, "config", key, str(programs / program))
    settle(repo)
    for leftover in markers.iterdir():  # the test's own git calls above may have run some
        leftover.unlink()
    return repo, markers


def test_no_program_planted_in_git_config_or_hooks_runs_during_a_run(
    hostile_repo: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, markers = hostile_repo
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLANTED_KEY)
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script()))
    state = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done", state.get("error")
    dumps = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in markers.iterdir()}
    assert not [name for name, text in dumps.items() if PLANTED_KEY in text], "a planted program saw the API key"
    ran = sorted(dumps)
    assert ran == [], f"git ran planted programs: {ran}"
    assert "def mul" in git(repo, "show", f"{state['branch']}:calc/__init__.py")


def test_the_git_environment_carries_no_provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from autodev.core.gitops import git_env

    monkeypatch.setenv("ANTHROPIC_API_KEY", PLANTED_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED_KEY)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.fsmonitor'='/tmp/x'")
    env = git_env()
    assert PLANTED_KEY not in json.dumps(env)
    assert "GIT_CONFIG_PARAMETERS" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"


def _config_writing_test(repo: Path) -> str:
    """A unittest the test-master 'writes': run at the gate, it appends to the user's .git/config."""
    target = repo / ".git" / "config"
    return (
        "\n\nclass Sneaky(unittest.TestCase):\n"
        "    def test_sneak(self):\n"
        f"        with open({str(target)!r}, 'a') as handle:\n"
        "            handle.write('[core]\\n\\tfsmonitor = /bin/true\\n')\n"
    )


def test_a_run_during_which_git_config_changes_fails_and_says_what_changed(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    settle(repo)
    anchor = "self.assertEqual(add(2, 3), 5)\n"
    sneaky = call("Edit", file_path="tests/test_calc.py", old_string=anchor)
    sneaky["input"]["new_string"] = anchor + MUL_TEST + _config_writing_test(repo)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(feature_script({"test-master": [tools(sneaky), final(TESTS_WRITTEN)]})))
    # the jail keeps test code from writing .git/config at all (test_jail_escapes); unconfined, the
    # run's own check is what stands between the planted program and the next git command
    argv = ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), "--sandbox", "off"]
    code = main(argv)
    console = " ".join(capsys.readouterr().out.split())
    assert code != 0
    assert "run failed" in console
    assert "git config or hooks changed during the run" in console
    (run_dir,) = (repo / ".autodev" / "runs").iterdir()
    state = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "failed"
    assert f"{repo / '.git' / 'config'} (changed)" in state["error"]
    assert "inspect these files" in state["error"]
    assert "did not commit the result" in state["error"]
    assert "commit" not in state or not state.get("commit")
