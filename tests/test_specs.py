"""Agent files: built-ins, Claude Code compatibility, validation errors and the search order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scripts import trust_repo

from autodev.agent.specs import AgentFileError, AgentSpec, agent_dirs, load_agent_file, load_agents, parse_agent_text

BUILTIN_TIERS = {
    "researcher-local": ("fast", "haiku"),
    "researcher-web": ("balanced", "sonnet"),
    "planner": ("balanced", "sonnet"),
    "test-master": ("balanced", "sonnet"),
    "implementer": ("balanced", "sonnet"),
    "reviewer": ("fast", "haiku"),
    "security-auditor": ("deep", "opus"),
    "doc-master": ("fast", "haiku"),
    "issue-creator": ("balanced", "sonnet"),
}


def write_agent(directory: Path, filename: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(text, encoding="utf-8")
    return path


def agent_text(name: str, description: str = "Does things.", body: str = "You do things.", **fields: str) -> str:
    lines = [f"name: {name}", f"description: {description}", *(f"{k}: {v}" for k, v in fields.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


def load_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write_agent(tmp_path, "bad-agent.md", text)
    with pytest.raises(AgentFileError) as info:
        load_agent_file(path)
    return path, str(info.value)


# --- built-in agents ---------------------------------------------------------------------------


def test_all_nine_builtin_agents_load_with_the_design_tiers() -> None:
    agents = load_agents(None)
    assert set(agents) == set(BUILTIN_TIERS)
    for name, (tier, model) in BUILTIN_TIERS.items():
        spec = agents[name]
        assert spec.tier == tier, name
        assert spec.model == model, name
        assert spec.description, name
        assert spec.prompt.strip(), name
        assert spec.max_turns > 0 and spec.output_tokens > 0 and spec.context_tokens > 0
        assert spec.source.parent == agent_dirs(None)[0]


def test_builtin_agents_offer_only_implemented_tools() -> None:
    agents = load_agents(None)
    assert agents["researcher-local"].offered_tools() == ("Glob", "Grep", "Read")
    assert "Write" in agents["implementer"].offered_tools()
    assert "RunTests" in agents["test-master"].offered_tools()
    # researcher-web lists web tools this build does not implement: accepted, not offered.
    web = agents["researcher-web"]
    assert web.offered_tools() == ()
    assert set(web.unavailable_tools()) == {"WebSearch", "WebFetch"}
    for reader in ("reviewer", "security-auditor", "planner", "issue-creator"):
        assert not {"Write", "Edit"} & set(agents[reader].offered_tools()), reader


# --- Claude Code subagent files ----------------------------------------------------------------


def test_claude_code_subagent_with_only_its_own_fields_loads(tmp_path: Path) -> None:
    text = (
        "---\n"
        "name: code-reviewer\n"
        "description: Expert code review specialist. Use proactively after writing code.\n"
        "tools: Read, Grep, Glob\n"
        "model: sonnet\n"
        "---\n"
        "You are a senior code reviewer.\n\nReview the diff.\n"
    )
    spec = load_agent_file(write_agent(tmp_path, "code-reviewer.md", text))
    assert spec.name == "code-reviewer"
    assert spec.description.startswith("Expert code review specialist")
    assert spec.tools == ("Read", "Grep", "Glob")
    assert spec.model == "sonnet"
    assert spec.tier is None
    assert spec.prompt == "You are a senior code reviewer.\n\nReview the diff."
    assert spec.extra == {}
    assert (spec.max_turns, spec.output_tokens, spec.context_tokens) == (10, 800, 8000)


def test_unknown_claude_code_keys_are_kept_in_extra(tmp_path: Path) -> None:
    text = (
        "---\n"
        "name: debugger\n"
        "description: Debugging specialist\n"
        "tools: Read, Edit, Bash\n"
        "model: inherit\n"
        "color: red\n"
        "permissionMode: acceptEdits\n"
        "maxTurns: 5\n"
        "hooks:\n"
        "  PostToolUse: [lint]\n"
        "---\n"
        "Find the root cause.\n"
    )
    spec = load_agent_file(write_agent(tmp_path, "debugger.md", text))
    assert spec.extra == {"color": "red", "permissionMode": "acceptEdits", "hooks": {"PostToolUse": ["lint"]}}
    assert spec.max_turns == 5  # Claude Code's camelCase spelling is understood
    assert spec.model == "inherit"
    assert spec.offered_tools() == ("Bash", "Edit", "Read")
    assert spec.unavailable_tools() == ()


def test_tools_as_comma_string_and_as_yaml_list_are_the_same(tmp_path: Path) -> None:
    as_string = parse_agent_text(tmp_path / "a.md", agent_text("a", tools="Read,  Grep ,Glob"))
    as_list = parse_agent_text(
        tmp_path / "b.md", "---\nname: b\ndescription: d\ntools:\n  - Read\n  - Grep\n  - Glob\n---\n"
    )
    as_flow = parse_agent_text(tmp_path / "c.md", agent_text("c", tools="[Read, Grep, Glob]"))
    assert as_string.tools == as_list.tools == as_flow.tools == ("Read", "Grep", "Glob")
    assert as_string.offered_tools() == ("Glob", "Grep", "Read")


def test_tools_omitted_means_every_implemented_tool(tmp_path: Path) -> None:
    spec = parse_agent_text(tmp_path / "a.md", agent_text("all-tools"))
    assert spec.tools is None
    assert spec.offered_tools() == ("Bash", "Edit", "Glob", "Grep", "Read", "RunTests", "Skill", "Write")
    assert spec.unavailable_tools() == ()


def test_disallowed_tools_are_removed_from_the_offer(tmp_path: Path) -> None:
    spec = parse_agent_text(tmp_path / "a.md", agent_text("careful", disallowedTools="Write, Edit"))
    assert spec.offered_tools() == ("Bash", "Glob", "Grep", "Read", "RunTests", "Skill")


def test_known_but_unimplemented_tools_are_accepted_not_offered(tmp_path: Path) -> None:
    text = agent_text("web", tools="Read, WebSearch, Bash(git:*), mcp__github__search")
    spec = parse_agent_text(tmp_path / "a.md", text)
    assert spec.offered_tools() == ("Bash", "Read")  # Bash(git:*) narrows Bash to git commands
    assert spec.unavailable_tools() == ("WebSearch", "mcp__github__search")


def test_tier_aliases_and_model_case(tmp_path: Path) -> None:
    spec = parse_agent_text(tmp_path / "a.md", agent_text("a", model="Opus", tier="3"))
    assert (spec.model, spec.tier) == ("opus", "deep")
    spec = parse_agent_text(tmp_path / "b.md", agent_text("b", model="claude-custom-1", tier="Fast"))
    assert (spec.model, spec.tier) == ("claude-custom-1", "fast")


def test_utf8_bom_file_loads(tmp_path: Path) -> None:
    """Editors on Windows save a byte-order mark; such a .claude/agents file must still load."""
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf" + agent_text("bom-agent").encode("utf-8"))
    assert load_agent_file(path).name == "bom-agent"


# --- errors: file, line and field ----------------------------------------------------------------


def test_missing_opening_fence(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "name: x\ndescription: y\n---\nbody\n")
    assert message.startswith(f"{path}:1:")
    assert "'---'" in message


def test_empty_file(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "")
    assert message.startswith(f"{path}:1:")


def test_unclosed_frontmatter(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\nYou are x.\n")
    assert message.startswith(f"{path}:1:")
    assert "never closed" in message


def test_invalid_yaml_reports_the_file_line(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\n  bad: indent\n---\nbody\n")
    assert message.startswith(f"{path}:4:")
    assert "not valid YAML" in message


def test_invalid_yaml_tab_line(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\ntools: Read\n\tmodel: z\n---\n")
    assert message.startswith(f"{path}:5:")


def test_frontmatter_that_is_not_a_mapping(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\n- name\n- description\n---\n")
    assert message.startswith(f"{path}:2:")
    assert "mapping" in message


def test_missing_name(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\ndescription: y\n---\nbody\n")
    assert message.startswith(f"{path}:1:")
    assert "field 'name'" in message and "missing" in message


def test_missing_description(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\n---\nbody\n")
    assert "field 'description'" in message
    assert str(path) in message


@pytest.mark.parametrize("bad_name", ["Code_Reviewer", "my agent", "-lead", "ünicode"])
def test_bad_name_characters(tmp_path: Path, bad_name: str) -> None:
    path, message = load_error(tmp_path, f"---\ndescription: y\nname: '{bad_name}'\n---\nbody\n")
    assert message.startswith(f"{path}:3: field 'name':")
    assert "lowercase" in message


def test_unknown_tool_points_at_the_tools_line(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\nmodel: haiku\ntools: Reed, Grep\n---\nbody\n")
    assert message.startswith(f"{path}:5: field 'tools':")
    assert "Reed" in message
    assert "Read" in message  # the known tools are listed, so the typo is obvious


def test_unknown_tool_in_a_yaml_list(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\ntools:\n  - Read\n  - Reed\n---\n")
    assert message.startswith(f"{path}:4: field 'tools':")
    assert "Reed" in message


def test_tools_of_the_wrong_type(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\ntools: {Read: true}\n---\n")
    assert message.startswith(f"{path}:4: field 'tools':")


def test_unknown_tier_points_at_the_tier_line(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "---\nname: x\ndescription: y\nmodel: haiku\n\ntier: turbo\n---\nbody\n")
    assert message.startswith(f"{path}:6: field 'tier':")
    assert "turbo" in message


@pytest.mark.parametrize(("key", "value"), [("max_turns", "0"), ("max_turns", "-3"), ("maxTurns", "0"),
                                            ("output_tokens", "many"), ("context_tokens", "true"),
                                            ("max_turns", "2.5")])  # fmt: skip
def test_non_positive_numbers(tmp_path: Path, key: str, value: str) -> None:
    path, message = load_error(tmp_path, f"---\nname: x\ndescription: y\n{key}: {value}\n---\nbody\n")
    assert message.startswith(f"{path}:4: field ")
    assert "positive" in message
    assert ("max_turns" if key == "maxTurns" else key) in message


def test_load_agents_names_the_malformed_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    bad = write_agent(repo / ".claude" / "agents", "broken.md", "---\nname: Broken\ndescription: y\n---\n")
    with pytest.raises(AgentFileError) as info:
        load_agents(repo)
    assert str(info.value).startswith(f"{bad}:2: field 'name'")


# --- search order ---------------------------------------------------------------------------------


def test_search_order_later_directories_win_by_name(tmp_path: Path) -> None:
    xdg = Path(os.environ["XDG_CONFIG_HOME"])
    repo = tmp_path / "repo"
    user_dir = xdg / "autodev" / "agents"
    claude_dir = repo / ".claude" / "agents"
    autodev_dir = repo / ".autodev" / "agents"
    assert agent_dirs(repo)[1:] == [user_dir, claude_dir, autodev_dir]

    write_agent(user_dir, "planner.md", agent_text("planner", "user planner"))
    write_agent(user_dir, "reviewer.md", agent_text("reviewer", "user reviewer"))
    write_agent(user_dir, "helper.md", agent_text("helper", "user helper"))
    write_agent(claude_dir, "planner.md", agent_text("planner", "claude planner"))
    write_agent(claude_dir, "reviewer.md", agent_text("reviewer", "claude reviewer"))
    # overriding goes by the `name:` field, not the file name
    autodev_planner = write_agent(autodev_dir, "my-own-plan.md", agent_text("planner", "autodev planner"))

    agents = load_agents(repo)
    assert agents["planner"].description == "autodev planner"
    assert agents["planner"].source == autodev_planner
    assert agents["reviewer"].description == "claude reviewer"
    assert agents["helper"].description == "user helper"
    assert agents["implementer"].source.parent == agent_dirs(repo)[0]  # untouched built-in
    assert len(agents) == len(BUILTIN_TIERS) + 1


def test_user_dir_overrides_builtin_without_a_repo() -> None:
    user_dir = Path(os.environ["XDG_CONFIG_HOME"]) / "autodev" / "agents"
    write_agent(user_dir, "doc-master.md", agent_text("doc-master", "my docs", tier="deep"))
    agents = load_agents(None)
    assert agents["doc-master"].description == "my docs"
    assert agents["doc-master"].tier == "deep"


def test_non_markdown_files_are_ignored(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_agent(repo / ".autodev" / "agents", "notes.txt", "not an agent")
    write_agent(repo / ".autodev" / "agents", "extra.md", agent_text("extra"))
    agents = load_agents(repo)
    assert isinstance(agents["extra"], AgentSpec)
    assert len(agents) == len(BUILTIN_TIERS) + 1


# --- capabilities (docs/agents.md) --------------------------------------------------------------

DOC_GLOBS = (
    "*.md", "**/*.md", "*.rst", "**/*.rst", "docs/**", "*.txt", "CHANGELOG*", "LICENSE*",
    "!requirements*.txt", "!constraints*.txt", "!**/*.py",
)  # fmt: skip
BUILTIN_CAPABILITIES: dict[str, dict[str, object]] = {
    "researcher-local": {"retrieval": True, "write_scope": (), "handoff_sections": ("Relevant code",)},
    "researcher-web": {"write_scope": (), "handoff_sections": ("Findings",)},
    "planner": {
        "write_scope": (),
        "project_memory": True,
        "handoff_sections": ("Goal", "Changes", "Tests to write"),
    },
    "test-master": {
        "write_scope": ("tests/**", "test/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"),
        "handoff_sections": ("Tests", "Test run"),
    },
    "implementer": {
        "write_scope": ("**",),
        "roles": frozenset({"gate", "remediation"}),
        "reads": ("planner",),
        "project_memory": True,
        "handoff_sections": ("Changes", "Tests", "Docs impact"),
    },
    "reviewer": {
        "write_scope": (),
        "facts": ("diff", "ruff", "tests", "tamper"),
        "verdict": True,
        "reads": ("planner",),
        "handoff_sections": ("Checked",),
    },
    "security-auditor": {
        "write_scope": (),
        "facts": ("bandit", "secrets", "dependencies"),
        "verdict": True,
        "handoff_sections": ("Audited",),
    },
    "doc-master": {
        "write_scope": DOC_GLOBS,
        "facts": ("public_api", "doc_mentions"),
        "handoff_sections": ("Docs updated",),
    },
    "issue-creator": {"write_scope": (), "handoff_sections": ("Problem", "Proposal", "Acceptance criteria")},
}
NOTHING: dict[str, object] = {
    "retrieval": False,
    "facts": (),
    "write_scope": None,
    "verdict": False,
    "roles": frozenset(),
    "reads": (),
    "project_memory": False,
    "handoff_sections": (),
}


def capabilities(spec: AgentSpec) -> dict[str, object]:
    return {key: getattr(spec, key) for key in NOTHING}


def test_builtin_agents_carry_their_capabilities_in_their_files() -> None:
    agents = load_agents(None)
    for name, expected in BUILTIN_CAPABILITIES.items():
        assert capabilities(agents[name]) == {**NOTHING, **expected}, name
        assert not agents[name].extra, name  # every key is one the parser knows


def test_a_file_without_capability_keys_gets_none(tmp_path: Path) -> None:
    spec = load_agent_file(write_agent(tmp_path, "plain.md", agent_text("plain")))
    assert capabilities(spec) == NOTHING


def test_capabilities_parse_with_their_aliases(tmp_path: Path) -> None:
    text = agent_text(
        "critic",
        retrieval="true",
        facts="diff, tests",
        writeScope='["REVIEW.md", "notes/**", "!notes/*.py"]',
        verdict="true",
        roles="[remediation]",
        reads="[planner, researcher-local]",
        projectMemory="true",
        handoffSections="[Findings, Open questions]",
    )
    spec = load_agent_file(write_agent(tmp_path, "critic.md", text))
    assert capabilities(spec) == {
        "retrieval": True,
        "facts": ("diff", "tests"),
        "write_scope": ("REVIEW.md", "notes/**", "!notes/*.py"),
        "verdict": True,
        "roles": frozenset({"remediation"}),
        "reads": ("planner", "researcher-local"),
        "project_memory": True,
        "handoff_sections": ("Findings", "Open questions"),
    }
    assert not spec.extra


def test_an_empty_write_scope_is_read_only_and_one_glob_may_stand_alone(tmp_path: Path) -> None:
    assert load_agent_file(write_agent(tmp_path, "a.md", agent_text("a", write_scope="[]"))).write_scope == ()
    one = load_agent_file(write_agent(tmp_path, "b.md", agent_text("b", write_scope='"docs/**"')))
    assert one.write_scope == ("docs/**",)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retrieval", "yes please", "field 'retrieval': must be true or false, got 'yes please'"),
        ("verdict", "1", "field 'verdict': must be true or false, got 1"),
        ("project_memory", "[]", "field 'project_memory': must be true or false, got []"),
        ("facts", "[diff, lint]", "field 'facts': unknown analyser(s) lint; known analysers: diff, ruff, tests,"),
        ("facts", "{a: 1}", "field 'facts': must be a comma-separated string or a list of names"),
        ("write_scope", '["../elsewhere/**"]', "field 'write_scope': '../elsewhere/**' must be a glob relative to"),
        ("write_scope", '["!/etc/*"]', "field 'write_scope': '!/etc/*' must be a glob relative to the repository"),
        ("write_scope", '["docs/**", ""]', "field 'write_scope': must be a list of non-empty strings"),
        ("write_scope", "{docs: 1}", "field 'write_scope': must be a list of non-empty strings, got {'docs': 1}"),
        ("roles", "[gate, fixer]", "field 'roles': unknown role(s) fixer; roles: gate, remediation"),
        ("reads", "[Planner]", "field 'reads': 'Planner': list agent names (lowercase letters, digits, '-')"),
    ],
)
def test_bad_capabilities_point_at_their_line(tmp_path: Path, key: str, value: str, message: str) -> None:
    path, error = load_error(tmp_path, agent_text("x", **{key: value}))
    assert error.startswith(f"{path}:4: {message}"), error
    assert "\n" not in error


# --- docs/agents.md agrees with the parser and the bundled files ------------------------------------

AGENTS_DOC = Path(__file__).resolve().parents[1] / "docs" / "agents.md"


def test_the_documented_example_loads(tmp_path: Path) -> None:
    text = AGENTS_DOC.read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = parse_agent_text(tmp_path / "code-critic.md", example)
    assert (spec.name, spec.verdict, spec.facts, spec.write_scope, spec.reads) == (
        "code-critic",
        True,
        ("diff", "ruff", "tests"),
        (),
        ("planner",),
    )
    assert not spec.extra


def documented_list(cell: str) -> tuple[str, ...]:
    if cell in ("—", "`[]`"):
        return ()
    return tuple(part.strip().strip("`") for part in cell.split(","))


def test_the_documented_bundled_agents_are_the_bundled_files() -> None:
    lines = AGENTS_DOC.read_text(encoding="utf-8").split("## The bundled agents", 1)[1].splitlines()
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("| ")]
    header, body = rows[0], rows[1:]
    assert header[0] == "agent" and header[3:] == list(NOTHING)
    agents = load_agents(None)
    assert [row[0] for row in body] == list(BUILTIN_CAPABILITIES)
    for name, tier, tools, retrieval, facts, scope, verdict, roles, reads, memory, sections in body:
        spec = agents[name]
        assert (spec.tier, spec.tools) == (tier, documented_list(tools)), name
        documented = {
            "retrieval": retrieval == "true",
            "facts": documented_list(facts),
            "write_scope": documented_list(scope),
            "verdict": verdict == "true",
            "roles": frozenset(documented_list(roles)),
            "reads": documented_list(reads),
            "project_memory": memory == "true",
            "handoff_sections": documented_list(sections),
        }
        assert documented == capabilities(spec), name


def test_write_scope_from_the_file_and_config_wins(tmp_path: Path) -> None:
    from autodev.config.settings import load_settings
    from autodev.run.toolset import scope_for

    repo = tmp_path / "repo"
    spec = load_agent_file(write_agent(tmp_path, "scribe.md", agent_text("scribe", write_scope='["notes/**"]')))
    scope = scope_for(spec, load_settings(None, env={}))
    assert scope.patterns == ("notes/**",) and scope.source.endswith("scribe.md: write_scope")
    write_agent(repo / ".autodev", "config.toml", '[write_scopes]\nscribe = ["NOTES.md"]\n')
    trust_repo(repo)
    assert scope_for(spec, load_settings(repo, env={})).patterns == ("NOTES.md",)
    unscoped = load_agent_file(write_agent(tmp_path, "free.md", agent_text("free")))
    assert scope_for(unscoped).unrestricted
