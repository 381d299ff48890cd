"""One agent's tools and write scope, assembled one way (`available_tools`, `agent_tools`) for every caller."""

from __future__ import annotations

from pathlib import Path

from autodev.agent.skills import Skill
from autodev.agent.specs import load_agents
from autodev.config.settings import load_settings
from autodev.run.toolset import agent_tools, available_tools, scope_for, tools_for_agent


def test_skill_is_offered_only_when_there_is_a_skill_to_load(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    assert "Skill" not in available_tools(settings, {})
    skill = Skill("style", "House style.", "Use tabs.", tmp_path / "style.md")
    assert "Skill" in available_tools(settings, {"style": skill})


def test_agent_tools_are_its_offered_tools_and_its_write_scope() -> None:
    settings = load_settings(None, env={})
    available = available_tools(settings, {})
    agents = load_agents(None)
    for name, spec in agents.items():
        given = agent_tools(spec, settings, available)
        assert given.tools.keys() == tools_for_agent(spec, settings, available).keys(), name
        assert given.scope == scope_for(name, settings), name
    implementer = agents["implementer"]
    assert "RunTests" in agent_tools(implementer, settings, available).tools
    assert "RunTests" not in agent_tools(implementer, settings, available, can_run_tests=False).tools
    assert not {"Write", "Edit"} & set(agent_tools(implementer, settings, available, read_only=True).tools)
