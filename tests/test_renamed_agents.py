"""A renamed copy of a built-in agent behaves as the original: capabilities live in agent files, not names.

The reviewer is copied to `.autodev/agents/code-critic.md` and researcher-local to `scout.md` (only
`name:` changed), `[pipeline]` wires them in place of the originals, and the same scripted replies run
both pipelines. The copies get what the originals get: the critic the diff, ruff and tests facts, a
read-only write scope, and a VERDICT that sends the change back to the implementer; the scout the
ranked repository snippets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from scripts import APPROVE, CALC_FILES, REQUEST, feature_script, final, settle, verdict

from autodev.agent.specs import builtin_agents_dir
from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider

RENAMES = {"reviewer": "code-critic", "researcher-local": "scout"}
PIPELINE = {
    "researcher-local": [],
    "researcher-web": [],
    "planner": ["researcher-local", "researcher-web"],
    "test-master": ["planner"],
    "implementer": ["test-master"],
    "reviewer": ["implementer"],
    "security-auditor": ["implementer"],
    "doc-master": ["implementer"],
}
FINDING = "- mul has no docstring"


def renamed(name: str) -> str:
    return RENAMES.get(name, name)


def pipeline_toml(rename: bool) -> str:
    lines = ["[pipeline]"]
    for agent, needs in PIPELINE.items():
        name = renamed(agent) if rename else agent
        deps = ", ".join(f'"{renamed(d) if rename else d}"' for d in needs)
        lines.append(f'"{name}" = [{deps}]')
    return "\n".join(lines) + "\n"


def copies() -> dict[str, str]:
    """The bundled files of the renamed agents, with nothing but `name:` changed."""
    files = {}
    for original, name in RENAMES.items():
        text = (builtin_agents_dir() / f"{original}.md").read_text(encoding="utf-8")
        changed = text.replace(f"\nname: {original}\n", f"\nname: {name}\n", 1)
        assert changed != text
        files[f".autodev/agents/{name}.md"] = changed
    return files


def script(rename: bool) -> dict[str, Any]:
    critic = [verdict("REQUEST_CHANGES", FINDING), final(APPROVE)]
    data = feature_script({"reviewer": critic})
    if rename:
        data["agents"] = {renamed(name): replies for name, replies in data["agents"].items()}
    return data


def make_calc(make_repo: Any, rename: bool) -> Path:
    files = {**CALC_FILES, "CLAUDE.md": "# Conventions\n\nEvery function has a docstring.\n"}
    files[".autodev/config.toml"] += pipeline_toml(rename)
    if rename:
        files.update(copies())
    repo = make_repo(files, name="renamed" if rename else "original")
    settle(repo)
    return repo


def run(repo: Path, rename: bool) -> dict[str, Any]:
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script(rename)))
    state: dict[str, Any] = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    state["run_dir"] = result.run_dir
    return state


def tasks(state: dict[str, Any], agent: str) -> list[str]:
    """The task of each run of `agent`, from its session file."""
    text = Path(state["agents"][agent]["session_file"]).read_text(encoding="utf-8")
    return [part.split("## Turn 1", 1)[0] for part in text.split("## Task")[1:]]


@pytest.fixture
def runs(make_repo: Any) -> dict[bool, dict[str, Any]]:
    return {rename: run(make_calc(make_repo, rename), rename) for rename in (False, True)}


def test_renamed_copies_of_the_reviewer_and_researcher_local_behave_as_the_originals(
    runs: dict[bool, dict[str, Any]],
) -> None:
    original, copy = runs[False], runs[True]
    for state in (original, copy):
        assert state["status"] == "done", state.get("error")
    assert set(copy["agents"]) == {renamed(name) for name in original["agents"]}
    for name in original["agents"]:
        assert copy["agents"][renamed(name)]["runs"] == original["agents"][name]["runs"], name

    # the critic's VERDICT sent the change back to the implementer, as the reviewer's does
    assert copy["agents"]["code-critic"]["runs"] == 2 and copy["agents"]["implementer"]["runs"] == 2
    assert copy["gate"]["runs"] == original["gate"]["runs"] == 2
    fix_task = tasks(copy, "implementer")[1]
    assert "## Findings from code-critic" in fix_task and FINDING in fix_task

    # the critic got the reviewer's analyser facts, on both rounds
    for state, name in ((original, "reviewer"), (copy, "code-critic")):
        for task in tasks(state, name):
            assert "# Facts from analysers" in task
            assert [h.split(":")[0] for h in re.findall(r"^## (\w+: .*)$", task, re.M)] == [
                "diff",
                "ruff",
                "tests",
                "tamper",
            ]
        saved = json.loads((state["run_dir"] / "analysers" / f"{name}.json").read_text(encoding="utf-8"))
        assert [r["name"] for r in saved["results"]] == ["diff", "ruff", "tests", "tamper"]

    # the scout got the ranked repository snippets, word for word what researcher-local got
    scout, researcher = tasks(copy, "scout"), tasks(original, "researcher-local")
    assert "# Repository context (ranked snippets" in scout[0]
    assert scout == researcher

    # project memory reaches the agents whose files ask for it, in both runs
    for state in (original, copy):
        with_memory = {name for name in state["agents"] if "# Project memory" in tasks(state, name)[0]}
        assert with_memory == {"planner", "implementer"}

    # every agent's every task is the original's, but for the two names (timings, commit ids)
    for name in original["agents"]:
        expected = [as_renamed(task) for task in tasks(original, name)]
        assert [normal(task) for task in tasks(copy, renamed(name))] == expected, name


def as_renamed(task: str) -> str:
    task = task.replace("## researcher-local\n", "## scout\n").replace("from reviewer\n", "from code-critic\n")
    return normal(task)


def normal(task: str) -> str:
    """A task without what differs between two runs of the same script: timings and commit ids."""
    return re.sub(r"\b[0-9a-f]{12,40}\b", "<commit>", re.sub(r"\d+(\.\d+)?\s?(s|ms)\b", "<t>", task))


def test_the_critic_is_read_only_and_offered_what_the_reviewer_is(
    make_repo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_calc(make_repo, rename=True)
    assert main(["agents", "--json", "--repo", str(repo)]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["agents"]}
    for original, name in RENAMES.items():
        assert rows[name]["write_scope"] == rows[original]["write_scope"] == "nothing (read-only)"
        assert rows[name]["tools"] == rows[original]["tools"]
        assert rows[name]["tier"] == rows[original]["tier"]
