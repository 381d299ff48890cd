"""Issue 20: no prompt, skill or tool description contradicts another.

Each check loads the bundled agents and every skill an agent can reach (its preloads, and the whole
index when it has the Skill tool) and pins one rule the review found broken.
"""

from __future__ import annotations

import re

import pytest

from autodev.agent.skills import Skill, load_skills
from autodev.agent.specs import AgentSpec, load_agents
from autodev.agent.verdicts import parse_verdict

AGENTS = load_agents(None)
SKILLS = load_skills(None)
MAX_PROMPT_WORDS = 560  # the prompts are compact (issue 20: 400-520 words); a fix must not bloat them


def reachable(spec: AgentSpec) -> list[Skill]:
    names = set(spec.skills) | (set(SKILLS) if "Skill" in spec.offered_tools() else set())
    return [SKILLS[name] for name in sorted(names)]


def test_one_security_severity_scale() -> None:
    auditor, checklist = AGENTS["security-auditor"], SKILLS["security-checklist"]
    assert checklist.name in auditor.skills
    for text in (auditor.prompt, checklist.body):
        assert "critical and high" in text
        assert "concrete path from attacker-controlled input" in text
    assert "medium severity or above" not in auditor.prompt
    assert "Block only on critical or high" not in checklist.body


@pytest.mark.parametrize("name", ["reviewer", "security-auditor"])
def test_verdict_agents_have_false_positive_discipline_and_a_consistent_verdict_rule(name: str) -> None:
    prompt = AGENTS[name].prompt
    assert "## False positives" in prompt
    assert "lines the change does not touch" in prompt
    assert "Any numbered finding means REQUEST_CHANGES" in prompt
    templates = re.findall(r"```\n(.*?)```", prompt, re.DOTALL)
    decisions = [parse_verdict(template.replace("```", "")).decision for template in templates]
    assert decisions == ["REQUEST_CHANGES", "APPROVE"]
    for template in templates:
        assert template.strip().splitlines()[-1].startswith("VERDICT: ")  # findings first, verdict last


def test_test_first_agrees_with_the_test_master() -> None:
    skill, test_master = SKILLS["test-first"], AGENTS["test-master"]
    assert skill.name in test_master.skills
    assert "not an import error" not in skill.body
    for text in (skill.body, test_master.prompt):
        assert "ImportError" in text
    assert "the test writer never writes the feature" in skill.body
    assert "Make the smallest change that passes" not in skill.body


def test_the_doc_master_gets_docs_style_and_they_agree_on_docstrings() -> None:
    doc_master, style = AGENTS["doc-master"], SKILLS["docs-style"]
    assert style in reachable(doc_master)
    assert "docstrings belong to the implementer" in doc_master.prompt
    assert "belong to the implementer" in style.body
    assert "Examples must actually work: run them" not in style.body  # the doc-master cannot run anything


def test_no_agent_is_told_to_run_what_it_cannot() -> None:
    for name, spec in AGENTS.items():
        if "Bash" in spec.offered_tools():
            continue
        for skill in reachable(spec):
            for forbidden in ("Check `git status`", "Run the linter", "Message: a subject line", "force-push"):
                assert forbidden not in skill.body, (name, skill.name, forbidden)


def test_the_implementer_is_not_said_to_see_nothing_of_the_plan() -> None:
    assert "planner" in AGENTS["implementer"].reads
    assert "sees nothing of the plan" not in AGENTS["test-master"].prompt
    assert "planner's plan" in AGENTS["implementer"].prompt


def test_the_reviewer_is_not_told_the_suite_passed() -> None:
    assert "has already passed" not in AGENTS["reviewer"].prompt
    assert "Never assume they passed" in AGENTS["reviewer"].prompt


def test_prompts_stay_compact() -> None:
    for name, spec in AGENTS.items():
        assert len(spec.prompt.split()) <= MAX_PROMPT_WORDS, name
