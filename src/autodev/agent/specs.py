"""Agent files -> validated `AgentSpec`s, with the search order and override-by-name of docs/agents.md.

Validation is strict about what we rely on (name, tier, tools, numbers, capabilities) and lenient about
what we don't (unknown keys are kept), so Claude Code subagent files load unchanged. Every error names
the file, the line and the field, because a user with twenty agent files needs to find the bad one.

Capabilities (`retrieval`, `facts`, `write_scope`, `verdict`, `roles`, `reads`, `project_memory`) are
what the run does for an agent; they live in its file, never in code keyed on its name, so a renamed
copy of a built-in agent behaves as the original. A file that redefines an agent replaces it whole: a
capability it leaves out is not inherited from the file it replaces.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from autodev.agent.analysers.registry import ANALYSERS
from autodev.agent.frontmatter import Fields, FrontmatterError, read_frontmatter
from autodev.sandbox.scopes import glob_problem
from autodev.tools import names as tool_names

TIERS: tuple[str, ...] = ("fast", "balanced", "deep")
TIER_ALIASES: dict[str, str] = {"1": "fast", "2": "balanced", "3": "deep"}
MODEL_ALIASES: dict[str, str] = {"haiku": "fast", "sonnet": "balanced", "opus": "deep"}
WEB_TOOLS: frozenset[str] = frozenset({"WebSearch", "WebFetch"})  # served by a provider's own web search
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FIELD_ALIASES: dict[str, str] = {
    "maxTurns": "max_turns",
    "outputTokens": "output_tokens",
    "contextTokens": "context_tokens",
    "writeScope": "write_scope",
    "projectMemory": "project_memory",
    "handoffSections": "handoff_sections",
}
GATE_ROLE, REMEDIATION_ROLE = "gate", "remediation"
ROLES: tuple[str, ...] = (GATE_ROLE, REMEDIATION_ROLE)
CAPABILITY_KEYS: tuple[str, ...] = (
    "retrieval", "facts", "write_scope", "verdict", "roles", "reads", "project_memory", "handoff_sections",
)  # fmt: skip
KNOWN_KEYS: frozenset[str] = frozenset({
    "name", "description", "tools", "disallowedTools", "model", "tier", "max_turns", "output_tokens",
    "context_tokens", "skills", *CAPABILITY_KEYS,
})  # fmt: skip


class AgentFileError(FrontmatterError):
    """A malformed agent file: the message starts with `file:line: field`."""


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    prompt: str
    source: Path
    tools: tuple[str, ...] | None = None  # None: every tool (Claude Code's "omitted = all")
    disallowed_tools: tuple[str, ...] = ()
    model: str = "inherit"
    tier: str | None = None
    max_turns: int = 10
    output_tokens: int = 800
    context_tokens: int = 8000
    skills: tuple[str, ...] = ()
    # capabilities (docs/agents.md): what the run does for this agent, whatever its name
    retrieval: bool = False  # ranked repository snippets in its task
    facts: tuple[str, ...] = ()  # analysers whose findings it receives as facts
    write_scope: tuple[str, ...] | None = None  # globs it may write; () read-only; None: its tools decide
    verdict: bool = False  # ends with a VERDICT line that can send the change back
    roles: frozenset[str] = frozenset()  # "gate": the tests run after it; "remediation": it fixes findings
    reads: tuple[str, ...] = ()  # earlier agents whose handoffs it reads beyond its dependencies
    project_memory: bool = False  # CLAUDE.md / AGENTS.md in its task
    handoff_sections: tuple[str, ...] = ()  # `## Heading`s its handoff must have (one corrective turn if not)
    extra: dict[str, Any] = field(default_factory=dict)

    def offered_tools(self) -> tuple[str, ...]:
        """The tools this build will actually hand the model, in a stable order."""
        listed = tool_names.IMPLEMENTED if self.tools is None else {tool_names.base_name(t) for t in self.tools}
        denied = {tool_names.base_name(t) for t in self.disallowed_tools}
        return tuple(sorted(n for n in listed if n in tool_names.IMPLEMENTED and n not in denied))

    def unavailable_tools(self) -> tuple[str, ...]:
        if self.tools is None:
            return ()
        return tuple(t for t in self.tools if tool_names.base_name(t) not in tool_names.IMPLEMENTED)


def _tools(fields: Fields) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    tools = fields.name_list("tools")
    disallowed = fields.name_list("disallowedTools") or ()
    for key, entries in (("tools", tools or ()), ("disallowedTools", disallowed)):
        unknown = [t for t in entries if not tool_names.is_known(t)]
        if unknown:
            known = ", ".join(sorted(tool_names.IMPLEMENTED | tool_names.NOT_OFFERED))
            raise fields.error(key, f"unknown tool(s) {', '.join(unknown)}; known tools: {known}")
    return tools, disallowed


def _model_and_tier(fields: Fields) -> tuple[str, str | None]:
    model = fields.string("model") or "inherit"
    if model.lower() in (*MODEL_ALIASES, "inherit"):
        model = model.lower()
    tier_value = fields.string("tier")
    if tier_value is None:
        return model, None
    tier = TIER_ALIASES.get(tier_value, tier_value.lower())
    if tier not in TIERS:
        raise fields.error("tier", f"unknown tier {tier_value!r}; use fast, balanced or deep (or 1, 2, 3)")
    return model, tier


def _capabilities(fields: Fields) -> dict[str, Any]:
    """The autodev-only keys; a key left out gives the agent nothing (docs/agents.md)."""
    facts = fields.name_list("facts") or ()
    unknown = [name for name in facts if name not in ANALYSERS]
    if unknown:
        known = ", ".join(ANALYSERS)
        raise fields.error("facts", f"unknown analyser(s) {', '.join(unknown)}; known analysers: {known}")
    scope = fields.string_list("write_scope")
    for pattern in scope or ():
        problem = glob_problem(pattern)
        if problem:
            raise fields.error("write_scope", problem)
    roles = fields.name_list("roles") or ()
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise fields.error("roles", f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(ROLES)}")
    reads = fields.name_list("reads") or ()
    bad = [name for name in reads if not NAME_PATTERN.match(name)]
    if bad:
        raise fields.error("reads", f"{', '.join(map(repr, bad))}: list agent names (lowercase letters, digits, '-')")
    return {
        "retrieval": fields.flag("retrieval"),
        "facts": facts,
        "write_scope": scope,
        "verdict": fields.flag("verdict"),
        "roles": frozenset(roles),
        "reads": reads,
        "project_memory": fields.flag("project_memory"),
        "handoff_sections": tuple(fields.string_list("handoff_sections") or ()),
    }


def parse_agent_text(path: Path, text: str) -> AgentSpec:
    fields, body = read_frontmatter(path, text, AgentFileError, FIELD_ALIASES)
    name = fields.string("name", required=True)
    assert name is not None
    if not NAME_PATTERN.match(name):
        raise fields.error("name", f"{name!r} must use only lowercase letters, digits and '-'")
    description = fields.string("description", required=True)
    assert description is not None
    tools, disallowed = _tools(fields)
    model, tier = _model_and_tier(fields)
    return AgentSpec(
        name=name,
        description=description,
        prompt=body,
        source=path,
        tools=tools,
        disallowed_tools=disallowed,
        model=model,
        tier=tier,
        max_turns=fields.positive_int("max_turns", 10),
        output_tokens=fields.positive_int("output_tokens", 800),
        context_tokens=fields.positive_int("context_tokens", 8000),
        skills=fields.name_list("skills") or (),
        **_capabilities(fields),
        extra={k: v for k, v in fields.data.items() if k not in KNOWN_KEYS},
    )


def load_agent_file(path: Path) -> AgentSpec:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not content
    except UnicodeDecodeError as exc:
        line_no = exc.object[: exc.start].count(b"\n") + 1
        raise AgentFileError(
            f"{path}:{line_no}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})",
            hint="save the agent file as UTF-8",
        ) from None
    except OSError as exc:
        raise AgentFileError(f"{path}: cannot read agent file: {exc}") from exc
    return parse_agent_text(path, text)


def builtin_agents_dir() -> Path:
    return Path(str(resources.files("autodev.agent") / "builtin" / "agents"))


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autodev"


def agent_dirs(repo: Path | None) -> list[Path]:
    """Search order; later directories override earlier ones by agent name."""
    dirs = [builtin_agents_dir(), user_config_dir() / "agents"]
    if repo is not None:
        dirs += [repo / ".claude" / "agents", repo / ".autodev" / "agents"]
    return dirs


def load_agents(repo: Path | None, skip: Collection[Path] = frozenset()) -> dict[str, AgentSpec]:
    """Every agent by name. `skip`: repository files not approved (`Settings.untrusted_files()`), left out."""
    agents: dict[str, AgentSpec] = {}
    for directory in agent_dirs(repo):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            if path in skip:
                continue
            spec = load_agent_file(path)
            agents[spec.name] = spec
    return agents


# The start of a word of an agent's name -> the bundled agent whose place it would take (`unused_agent_notes`).
ROLE_HINTS: tuple[tuple[str, str], ...] = (
    ("audit", "security-auditor"), ("secur", "security-auditor"), ("review", "reviewer"), ("test", "test-master"),
    ("docs", "doc-master"), ("document", "doc-master"), ("writer", "doc-master"), ("plan", "planner"),
    ("architect", "planner"), ("research", "researcher-local"), ("explor", "researcher-local"),
    ("implement", "implementer"), ("develop", "implementer"), ("engineer", "implementer"), ("coder", "implementer"),
    ("issue", "issue-creator"),
)  # fmt: skip


def unused_agents(specs: dict[str, AgentSpec], running: Collection[str]) -> list[AgentSpec]:
    """The agents loaded from files of the user's that no pipeline runs (a Claude Code subagent such as
    `.claude/agents/code-reviewer.md`): a run uses the agents its pipeline names, so without a word
    they would go silently unused (`unused_agent_note`)."""
    bundled = builtin_agents_dir()
    return [
        spec for name, spec in sorted(specs.items()) if name not in running and not spec.source.is_relative_to(bundled)
    ]


def wiring_hint(name: str) -> str:
    """How to have a pipeline run the agent `name`: the bundled agent whose place its name suggests."""
    words = name.split("-")
    role = next((agent for start, agent in ROLE_HINTS if any(word.startswith(start) for word in words)), None)
    if role is None:
        return "to run it, put it in [pipeline], or name it after the bundled agent it should replace"
    return (
        f"to run it as the {role}, put it in [pipeline] in place of {role}, or name it `{role}` (its file then "
        f"replaces the bundled {role} whole)"
    )


def unused_agent_note(spec: AgentSpec, repo: Path | None = None) -> str:
    """The warning a run and `autodev plan` give for an agent no pipeline runs."""
    where = spec.source.relative_to(repo) if repo is not None and spec.source.is_relative_to(repo) else spec.source
    hint = wiring_hint(spec.name)
    return f"agent {spec.name!r} ({where}) is loaded but no pipeline runs it: {hint}; see docs/agents.md"
