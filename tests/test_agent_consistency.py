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


# ---------------------------------------------------------------- every reachable skill, every rule
PAIRS = [(name, skill) for name, spec in sorted(AGENTS.items()) for skill in reachable(spec)]
SEVERITY_WORDS = re.compile(r"\b(block|blocking)\b[^.\n]*\b(critical|high|medium|low)\b", re.IGNORECASE)


@pytest.mark.parametrize(("name", "skill"), PAIRS, ids=[f"{n}-{s.name}" for n, s in PAIRS])
def test_no_reachable_skill_contradicts_its_agent(name: str, skill: Skill) -> None:
    """The rules issue 20 names, checked for every skill an agent can load (its preloads, or all with `Skill`)."""
    spec, body = AGENTS[name], skill.body
    tools = set(spec.offered_tools())
    # one severity scale: whatever a skill says about blocking by severity is the auditor's scale
    for match in SEVERITY_WORDS.finditer(body):
        sentence = match.group(0).lower()
        assert "only on critical or high" not in sentence and "medium severity or above" not in sentence, sentence
    if SEVERITY_WORDS.search(body):
        assert "Block on critical and high" in body and "concrete path from attacker-controlled input" in body
    # a verdict agent's skills never ask for another verdict format, and keep untouched lines non-blocking
    if spec.verdict:
        for line in body.splitlines():
            assert not re.search(r"VERDICT:\s*(PASS|FAIL|REJECT|LGTM)", line), (skill.name, line)
        if re.search(r"\breview", body, re.IGNORECASE):
            assert re.search(r"(untouched lines|lines the change does not touch)", body), skill.name
    # ImportError naming the planned symbol is a valid red test wherever tests are written first
    assert "not an import error" not in body.lower()
    # nobody is told to weaken a test, or to leave a stub behind
    for permissive in (
        "mark it xfail",
        "skip the failing test",
        "delete the failing test",
        "raise NotImplementedError",
    ):
        assert permissive not in body, (skill.name, permissive)
    # docstrings belong to the implementer: a skill the doc-master reads never tells it to edit them
    if "Write" in tools and "Bash" not in tools and spec.write_scope and "!**/*.py" in spec.write_scope:
        assert "update the docstring" not in body.lower(), skill.name
    # what an agent cannot do, no skill tells it to do
    if "Bash" not in tools:
        assert not re.search(r"\b(run|check) (the )?(linter|type checker|git \w+|`git)", body, re.IGNORECASE) or (
            "cannot run" in body or "never run git" in body
        ), skill.name


@pytest.mark.parametrize("name", sorted(n for n, s in AGENTS.items() if s.handoff_sections))
def test_every_declared_handoff_section_is_in_the_agents_own_template(name: str) -> None:
    """The sections the runtime checks are the ones the prompt asks for: a heading or a label line."""
    spec = AGENTS[name]
    for section in spec.handoff_sections:
        assert f"## {section}\n" in spec.prompt or f"\n{section}: " in spec.prompt, (name, section)


def test_the_implementer_has_the_rules_real_models_need() -> None:
    prompt = AGENTS["implementer"].prompt
    for rule in (
        "same failure comes back twice",  # loop discipline
        "form a new hypothesis",
        "already failed before your change",  # pre-existing failures
        "`NotImplementedError`",  # no stubs
        "no placeholder comments",
        "update every caller",  # a changed signature
        "# Your previous attempt",  # reruns see their own earlier work
        "Never delete, skip, mark xfail or loosen a test",
    ):
        assert rule in prompt, rule


def test_the_web_researcher_is_told_about_the_pins_it_receives() -> None:
    assert "# Project dependencies" in AGENTS["researcher-web"].prompt


def test_the_reviewer_is_told_what_a_tamper_fact_means() -> None:
    reviewer = AGENTS["reviewer"]
    assert "tamper" in reviewer.facts
    assert "`tamper`: tests weakened since they were written" in reviewer.prompt
