"""A model's bad bytes and a repository's non-UTF-8 file names: the run goes on, the model is told.

A lone surrogate in a tool call's arguments (what a model's invalid bytes decode to) is refused before
the tool runs, as an error result the model can correct; a tracked file whose name is not UTF-8 is left
out of retrieval and shown escaped (`\\xef`) by Grep. Neither crashes the session log, state.json or
metrics.jsonl, which stay valid UTF-8.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    ADDRESSED,
    CALC_FILES,
    PLAN,
    REQUEST,
    RESEARCH,
    call,
    edit_mul,
    feature_script,
    final,
    git,
    implemented,
    tools,
)

from autodev.agent.context.repomap import map_commit, map_worktree
from autodev.apps.cli.main import main
from autodev.tools.arguments import argument_problems
from autodev.tools.base import valid_text
from autodev.tools.files import builtin_tools

BAD_NAME = os.fsdecode(b"calc/na\xefve.py")  # a Latin-1 name: byte 0xef is not UTF-8 here


def run_dir(repo: Path) -> Path:
    return next((repo / ".autodev" / "runs").iterdir())


def assert_utf8_everywhere(repo: Path) -> None:
    """Every file the run wrote decodes as UTF-8 (strictly) and the JSON ones parse."""
    for path in run_dir(repo).rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8")
            if path.suffix == ".json":
                json.loads(text)
            elif path.suffix == ".jsonl":
                [json.loads(line) for line in text.splitlines()]


def run(tmp_path: Path, repo: Path, script: dict[str, Any], request: str = REQUEST) -> int:
    (tmp_path / "s.json").write_text(json.dumps(script), encoding="utf-8")
    return main(["run", request, "--repo", str(repo), "--provider", "scripted", "--script", str(tmp_path / "s.json")])


def test_a_lone_surrogate_in_arguments_comes_back_as_an_error_the_model_corrects(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES, name="proj")
    bad = [
        call("Read", file_path="a\udc80.py"),
        call("Write", file_path="b\udc80.py", content="x"),
        call("Edit", file_path="calc/__init__.py", old_string="add", new_string="ad\ud800d"),
        call("Grep", pattern="\udcff"),
    ]
    replies = [tools(*bad), tools(edit_mul()), final(implemented("- Added mul.")), final(ADDRESSED), final(ADDRESSED)]
    code = run(tmp_path, repo, feature_script({"implementer": replies}))
    assert code == 0, capsys.readouterr()
    state = json.loads((run_dir(repo) / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done"
    session = (run_dir(repo) / "sessions" / "implementer.md").read_text(encoding="utf-8")
    assert session.count("is not valid Unicode: it holds the lone surrogate") == 4
    assert "'file_path' is not valid Unicode: it holds the lone surrogate \\udc80" in session
    assert "Call Read again with its parameters" in session
    assert not any(
        name.startswith(("a", "b")) for name in os.listdir(repo / ".autodev" / "worktrees" / state["run_id"])
    )
    assert "def mul(a, b)" in git(repo, "show", f"{state['branch']}:calc/__init__.py")  # it went on
    assert_utf8_everywhere(repo)


def test_a_lone_surrogate_in_the_final_text_is_stored_escaped(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES, name="proj")
    script = feature_script({"planner": [final(PLAN + "\n- calc\udcef.")]})
    assert run(tmp_path, repo, script) == 0, capsys.readouterr()
    state = json.loads((run_dir(repo) / "state.json").read_text(encoding="utf-8"))
    assert state["agents"]["planner"]["handoff"] == PLAN + "\n- calc\\xef."
    assert_utf8_everywhere(repo)


def test_a_tracked_file_with_a_non_utf8_name_neither_stops_retrieval_nor_grep(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES, name="proj")
    (repo / BAD_NAME).write_text("def naive():\n    return 1\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Latin-1 name")
    grep = [tools(call("Grep", pattern="def "), call("Glob", pattern="calc/*")), final(RESEARCH)]
    assert run(tmp_path, repo, feature_script({"researcher-local": grep}), "make naive() return 2") == 0, (
        capsys.readouterr()
    )
    session = (run_dir(repo) / "sessions" / "researcher-local.md").read_text(encoding="utf-8")
    assert "calc/na\\xefve.py:1: def naive():" in session
    assert_utf8_everywhere(repo)


def test_the_repository_map_skips_names_that_are_not_utf8_and_keeps_the_rest(make_repo: Any) -> None:
    repo = make_repo({**CALC_FILES, 'docs/é "quoted"\tname.md': "# odd but UTF-8\n"}, name="proj")
    (repo / BAD_NAME).write_text("x = 1\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "core.quotepath=off", "commit", "-qm", "names")
    expected = sorted(path for path in [*CALC_FILES, 'docs/é "quoted"\tname.md'] if not path.startswith(".autodev"))
    assert [entry.path for entry in map_worktree(repo).files] == expected
    assert [entry.path for entry in map_commit(repo, "HEAD").files] == expected


def test_every_tool_refuses_a_lone_surrogate_anywhere_in_its_arguments() -> None:
    for name, tool in builtin_tools().items():
        schema = tool.definition.input_schema
        for argument, spec in schema["properties"].items():
            if spec.get("type") == "string":
                problems = argument_problems(schema, {argument: "x\udc80"})
                assert any("lone surrogate \\udc80" in problem for problem in problems), (name, argument)
    nested = {"type": "object", "properties": {"edits": {"type": "array"}}}
    assert argument_problems(nested, {"edits": [{"old": ["ok", "\ud800"]}]})


def test_valid_text_escapes_only_what_is_not_unicode() -> None:
    assert valid_text("plain é ✓") == "plain é ✓"
    assert valid_text("na\udcefve \ud800") == "na\\xefve \\ud800"
    valid_text("na\udcefve \ud800").encode("utf-8")
