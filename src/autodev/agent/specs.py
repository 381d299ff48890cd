"""Agent files -> validated `AgentSpec`s, with the search order and override-by-name of docs/agents.md.

Validation is strict about what we rely on (name, tier, tools, numbers) and lenient about what we
don't (unknown keys are kept), so Claude Code subagent files load unchanged. Every error names the
file, the line and the field, because a user with twenty agent files needs to find the bad one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from autodev.core.errors import UserError
from autodev.tools import names as tool_names

TIERS: tuple[str, ...] = ("fast", "balanced", "deep")
TIER_ALIASES: dict[str, str] = {"1": "fast", "2": "balanced", "3": "deep"}
MODEL_ALIASES: dict[str, str] = {"haiku": "fast", "sonnet": "balanced", "opus": "deep"}
WEB_TOOLS: frozenset[str] = frozenset({"WebSearch", "WebFetch"})  # served by a provider's own web search
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FIELD_ALIASES = {"maxTurns": "max_turns", "outputTokens": "output_tokens", "contextTokens": "context_tokens"}


class AgentFileError(UserError):
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


def _split_frontmatter(path: Path, text: str) -> tuple[str, str, int]:
    """Return (yaml text, body, line number where the YAML starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise AgentFileError(f"{path}:1: the file must start with a '---' line opening the YAML frontmatter")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).strip(), 2
    raise AgentFileError(f"{path}:1: the frontmatter opened on line 1 is never closed with a '---' line")


def _key_lines(path: Path, frontmatter: str, first_line: int) -> dict[str, int]:
    try:
        node = yaml.compose(frontmatter)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise AgentFileError(f"{path}:{line}: frontmatter is not valid YAML: {problem}") from exc
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise AgentFileError(f"{path}:{first_line}: frontmatter must be a mapping of 'key: value' lines")
    return {str(k.value): first_line + k.start_mark.line for k, _ in node.value}


class _Fields:
    """Reads typed fields from the frontmatter mapping, raising errors that point at the line."""

    def __init__(self, path: Path, data: dict[str, Any], lines: dict[str, int]) -> None:
        self.path, self.data, self.lines = path, data, lines

    def error(self, key: str, message: str) -> AgentFileError:
        line = self.lines.get(key, 1)
        return AgentFileError(f"{self.path}:{line}: field '{key}': {message}")

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise AgentFileError(f"{self.path}:1: field '{key}': required but missing")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value).strip() == "":
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return str(value).strip()

    def positive_int(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(key, f"must be a positive whole number, got {value!r}")
        return value

    def name_list(self, key: str) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value]
        else:
            raise self.error(key, f"must be a comma-separated string or a list of names, got {value!r}")
        return tuple(item for item in items if item)


def parse_agent_text(path: Path, text: str) -> AgentSpec:
    frontmatter, body, first_line = _split_frontmatter(path, text)
    lines = _key_lines(path, frontmatter, first_line)
    raw = yaml.safe_load(frontmatter) or {}
    data = {_FIELD_ALIASES.get(str(k), str(k)): v for k, v in raw.items()}
    lines = {_FIELD_ALIASES.get(k, k): v for k, v in lines.items()}
    fields = _Fields(path, data, lines)

    name = fields.string("name", required=True)
    assert name is not None
    if not NAME_PATTERN.match(name):
        raise fields.error("name", f"{name!r} must use only lowercase letters, digits and '-'")
    description = fields.string("description", required=True)
    assert description is not None

    tools = fields.name_list("tools")
    disallowed = fields.name_list("disallowedTools") or ()
    for key, entries in (("tools", tools or ()), ("disallowedTools", disallowed)):
        unknown = [t for t in entries if not tool_names.is_known(t)]
        if unknown:
            known = ", ".join(sorted(tool_names.IMPLEMENTED | tool_names.NOT_OFFERED))
            raise fields.error(key, f"unknown tool(s) {', '.join(unknown)}; known tools: {known}")

    model = fields.string("model") or "inherit"
    if model.lower() in (*MODEL_ALIASES, "inherit"):
        model = model.lower()
    tier_value = fields.string("tier")
    tier = None
    if tier_value is not None:
        tier = TIER_ALIASES.get(tier_value, tier_value.lower())
        if tier not in TIERS:
            raise fields.error("tier", f"unknown tier {tier_value!r}; use fast, balanced or deep (or 1, 2, 3)")

    skills = fields.name_list("skills") or ()
    known_keys = {
        "name",
        "description",
        "tools",
        "disallowedTools",
        "model",
        "tier",
        "max_turns",
        "output_tokens",
        "context_tokens",
        "skills",
    }
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
        skills=skills,
        extra={k: v for k, v in data.items() if k not in known_keys},
    )


def load_agent_file(path: Path) -> AgentSpec:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not content
    except (OSError, UnicodeDecodeError) as exc:
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


def load_agents(repo: Path | None) -> dict[str, AgentSpec]:
    agents: dict[str, AgentSpec] = {}
    for directory in agent_dirs(repo):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            spec = load_agent_file(path)
            agents[spec.name] = spec
    return agents
