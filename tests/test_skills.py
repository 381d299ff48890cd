"""Skills: loading and override order, strict validation, the index, the Skill tool, preloads, tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from autodev.agent.runtime import AgentInputs, run_agent
from autodev.agent.skills import (
    INDEX_HEADING,
    SkillFileError,
    SkillTool,
    check_agent_skills,
    load_skills,
    skill_prompt_tokens,
    with_skills,
)
from autodev.agent.specs import AgentSpec, load_agents
from autodev.apps.cli.main import cli
from autodev.core.errors import UserError
from autodev.core.metrics import MetricsSink
from autodev.models import ToolResultPart
from autodev.models.fakes.scripted import RecordingModel, ScriptedProvider
from autodev.sandbox.workspace import Workspace
from autodev.tools.base import ToolContext, invoke
from autodev.tools.files import builtin_tools

BUILTIN = {"docs-style", "git-hygiene", "python-conventions", "security-checklist", "test-first"}


def write_skill(base: Path, folder: str, body: str = "Do the thing.", **fields: str) -> Path:
    path = base / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {"name": folder, "description": f"About {folder}.", **fields}
    head = "".join(f"{k}: {v}\n" for k, v in fields.items())
    path.write_text(f"---\n{head}---\n{body}\n", encoding="utf-8")
    return path


def spec(**kw: Any) -> AgentSpec:
    values: dict[str, Any] = {
        "name": "implementer",
        "description": "Implements.",
        "prompt": "You are the implementer.",
        "source": Path("implementer.md"),
        "tools": ("Read", "Skill"),
    }
    values.update(kw)
    return AgentSpec(**values)


def test_builtin_skills_load_and_are_substantial() -> None:
    skills = load_skills(None)
    assert set(skills) == BUILTIN
    for skill in skills.values():
        assert 120 <= len(skill.body.split()) <= 400, skill.name
        assert len(skill.description) <= 1024


def test_repo_skills_override_by_name_in_order(tmp_path: Path) -> None:
    write_skill(tmp_path / ".claude" / "skills", "git-hygiene", body="claude version")
    write_skill(tmp_path / ".claude" / "skills", "house-style", body="claude house")
    write_skill(tmp_path / ".autodev" / "skills", "house-style", body="autodev house")
    skills = load_skills(tmp_path)
    assert set(skills) == BUILTIN | {"house-style"}
    assert skills["git-hygiene"].body == "claude version"
    assert skills["house-style"].body == "autodev house"
    assert skills["house-style"].source == tmp_path / ".autodev" / "skills" / "house-style" / "SKILL.md"


@pytest.mark.parametrize(
    ("folder", "fields", "expected"),
    [
        ("good", {"name": "other"}, ":2: field 'name': 'other' must equal its folder name 'good'"),
        ("Bad", {"name": "Bad"}, ":2: field 'name': 'Bad' must be 1-64"),
        ("a" * 65, {}, ":2: field 'name'"),
        ("good", {"description": "x" * 1025}, ":3: field 'description': is 1025 characters; at most 1024"),
        ("good", {"description": "''"}, ":3: field 'description': must be a non-empty string"),
    ],
)
def test_validation_errors_name_file_line_and_field(
    tmp_path: Path, folder: str, fields: dict[str, str], expected: str
) -> None:
    path = write_skill(tmp_path / ".autodev" / "skills", folder, **fields)
    with pytest.raises(SkillFileError) as info:
        load_skills(tmp_path)
    assert str(info.value).startswith(str(path))
    assert expected in str(info.value)


def test_missing_frontmatter_and_missing_description(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "skills" / "x" / "SKILL.md"
    path.parent.mkdir(parents=True)
    path.write_text("no frontmatter\n", encoding="utf-8")
    with pytest.raises(SkillFileError, match=r"SKILL.md:1: the file must start"):
        load_skills(tmp_path)
    path.write_text("---\nname: x\n---\nbody\n", encoding="utf-8")
    with pytest.raises(SkillFileError, match=r"SKILL.md:1: field 'description': required"):
        load_skills(tmp_path)


def test_index_and_preloads_in_the_prompt() -> None:
    skills = load_skills(None)
    plain = with_skills(spec(), skills, index=True)
    assert plain.prompt.startswith("You are the implementer.")
    assert INDEX_HEADING in plain.prompt and "`Skill` tool" in plain.prompt
    for skill in skills.values():
        assert f"- {skill.name}: {skill.description}" in plain.prompt
        assert skill.body not in plain.prompt  # progressive disclosure: bodies stay out
    preloaded = with_skills(spec(skills=("security-checklist",)), skills, index=False)
    assert skills["security-checklist"].body in preloaded.prompt
    assert INDEX_HEADING not in preloaded.prompt
    assert skills["test-first"].body not in preloaded.prompt


def test_unknown_preload_is_an_error_before_any_call() -> None:
    with pytest.raises(UserError, match=r"field 'skills'.*unknown skill\(s\) nope"):
        check_agent_skills([spec(skills=("nope",))], load_skills(None))


def test_builtin_agents_preload_known_skills_and_list_the_tool() -> None:
    agents = load_agents(None)
    check_agent_skills(agents.values(), load_skills(None))
    assert agents["security-auditor"].skills == ("security-checklist",)
    assert agents["test-master"].skills == ("test-first",)
    for name in ("planner", "test-master", "implementer", "reviewer", "security-auditor"):
        assert "Skill" in agents[name].offered_tools(), name


def test_skill_tool_returns_a_body_or_an_error(tmp_path: Path) -> None:
    skills = load_skills(None)
    tool = SkillTool(skills)
    ctx = ToolContext(Workspace(tmp_path), "implementer")

    async def call(args: dict[str, Any]) -> Any:
        return await invoke(tool, args, ctx)

    found = anyio.run(call, {"name": "git-hygiene"})
    assert not found.is_error and skills["git-hygiene"].body in found.content
    missing = anyio.run(call, {"name": "nope"})
    assert missing.is_error and "unknown skill 'nope'" in missing.content and "test-first" in missing.content


def test_run_agent_sees_the_index_and_loads_a_skill(tmp_path: Path) -> None:
    skills = load_skills(None)
    agent = with_skills(spec(), skills, index=True)
    replies = [{"tool_calls": [{"name": "Skill", "input": {"name": "python-conventions"}}]}, {"text": "done"}]
    model = RecordingModel(ScriptedProvider({"agents": {"implementer": replies}}).model("scripted-balanced"))
    tools: dict[str, Any] = {"Read": builtin_tools()["Read"], "Skill": SkillTool(skills)}
    inputs = AgentInputs(
        spec=agent,
        model=model,
        task="Tidy the code.",
        workspace=Workspace(tmp_path),
        tools=tools,
        run_id="run-1",
        session_path=tmp_path / "run" / "implementer.md",
        metrics=MetricsSink(tmp_path / "run" / "metrics.jsonl"),
    )
    outcome = anyio.run(run_agent, inputs)
    assert outcome.ok, outcome.error
    first = model.requests[0]
    assert INDEX_HEADING in first.system and "- python-conventions:" in first.system
    assert "Skill" in {t.name for t in first.tools}
    results = [p for p in model.requests[1].messages[-1].parts if isinstance(p, ToolResultPart)]
    assert skills["python-conventions"].body in results[0].content


def test_index_costs_fewer_tokens_than_inlining() -> None:
    tokens = skill_prompt_tokens(load_skills(None))
    assert 0 < tokens["index"] < tokens["inlined"]
    assert skill_prompt_tokens({}) == {"index": 0, "inlined": 0}


def test_agents_command_reports_skill_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # outside any repository: built-in agents and skills only
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = CliRunner().invoke(cli, ["agents", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["skills"]
    assert set(data["names"]) == BUILTIN and data["index_tokens"] < data["inlined_tokens"]
    text = CliRunner().invoke(cli, ["agents"])
    assert text.exit_code == 0 and "as an index vs" in text.output
