"""Skills with progressive disclosure: `SKILL.md` folders in Claude Code's format.

A skill is `<dir>/<name>/SKILL.md`: YAML frontmatter with `name` (at most 64 characters of
`[a-z0-9-]`, equal to the folder) and `description` (at most 1024 characters); the body is the skill.
Skills come from the built-in `autodev/agent/builtin/skills/`, then the repository's `.claude/skills/`, then
`.autodev/skills/`; a later one replaces an earlier one of the same name.

Only the index (each skill's name and description) goes into an agent's system prompt; the `Skill`
tool hands a body over when the model asks for it, and an agent's frontmatter `skills:` preloads the
bodies it always needs. `skill_prompt_tokens` measures what the index saves over inlining every body.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from autodev.agent.context.counting import count_tokens
from autodev.agent.frontmatter import read_frontmatter
from autodev.agent.specs import NAME_PATTERN, AgentFileError, AgentSpec
from autodev.core.errors import UserError
from autodev.models import ToolDefinition
from autodev.sandbox.workspace import ToolError
from autodev.tools.base import ToolContext, require_str

SKILL_FILE = "SKILL.md"
MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 1024
INDEX_HEADING = "# Skills"


class SkillFileError(AgentFileError):
    """A malformed SKILL.md: the message starts with `file:line: field`."""


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    body: str
    source: Path


def parse_skill_text(path: Path, text: str) -> Skill:
    fields, body = read_frontmatter(path, text, SkillFileError)
    name = fields.string("name", required=True)
    description = fields.string("description", required=True)
    assert name is not None and description is not None
    if len(name) > MAX_NAME_CHARS or not NAME_PATTERN.match(name):
        raise fields.error("name", f"{name!r} must be 1-64 lowercase letters, digits and '-'")
    if name != path.parent.name:
        raise fields.error("name", f"{name!r} must equal its folder name {path.parent.name!r}")
    if len(description) > MAX_DESCRIPTION_CHARS:
        message = f"is {len(description)} characters; at most {MAX_DESCRIPTION_CHARS}"
        raise fields.error("description", message)
    if not body:
        raise SkillFileError(f"{path}:1: body: the skill has no text after its frontmatter")
    return Skill(name=name, description=description, body=body, source=path)


def load_skill_file(path: Path) -> Skill:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillFileError(f"{path}: cannot read skill file: {exc}") from exc
    return parse_skill_text(path, text)


def builtin_skills_dir() -> Path:
    return Path(str(resources.files("autodev.agent") / "builtin" / "skills"))


def skill_dirs(repo: Path | None) -> list[Path]:
    """Search order; later directories override earlier ones by skill name."""
    dirs = [builtin_skills_dir()]
    if repo is not None:
        dirs += [repo / ".claude" / "skills", repo / ".autodev" / "skills"]
    return dirs


def load_skills(repo: Path | None, skip: Collection[Path] = frozenset()) -> dict[str, Skill]:
    """Every skill by name. `skip`: repository SKILL.md files not approved (`Settings.untrusted_files()`)."""
    skills: dict[str, Skill] = {}
    for directory in skill_dirs(repo):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob(f"*/{SKILL_FILE}")):
            if path in skip:
                continue
            skill = load_skill_file(path)
            skills[skill.name] = skill
    return dict(sorted(skills.items()))


def check_agent_skills(specs: Iterable[AgentSpec], skills: Mapping[str, Skill]) -> None:
    """Every skill an agent preloads must exist: an error now, before any model call."""
    for spec in specs:
        unknown = [name for name in spec.skills if name not in skills]
        if unknown:
            known = ", ".join(skills) or "none"
            raise UserError(
                f"{spec.source}: field 'skills': agent {spec.name!r} preloads unknown skill(s) "
                f"{', '.join(unknown)}; known skills: {known}"
            )


def skill_index(skills: Mapping[str, Skill]) -> str:
    if not skills:
        return ""
    entries = "\n".join(f"- {s.name}: {s.description}" for s in skills.values())
    return (
        f"{INDEX_HEADING}\n\nSkills hold know-how you can load when a task needs it. "
        'Call the `Skill` tool with {"name": "<skill>"} to read one before you rely on it.\n\n' + entries
    )


def _preloaded(skills: Iterable[Skill]) -> str:
    return "\n\n".join(f"# Skill: {s.name}\n\n{s.body}" for s in skills)


def skill_prompt(spec: AgentSpec, skills: Mapping[str, Skill], *, index: bool) -> str:
    """`spec.prompt` with its preloaded skill bodies and (when `index`) the skill index appended."""
    check_agent_skills([spec], skills)
    parts = [spec.prompt]
    if spec.skills:
        parts.append(_preloaded(skills[name] for name in spec.skills))
    if index and skills:
        parts.append(skill_index(skills))
    return "\n\n".join(part for part in parts if part)


def with_skills(spec: AgentSpec, skills: Mapping[str, Skill], *, index: bool) -> AgentSpec:
    return dataclasses.replace(spec, prompt=skill_prompt(spec, skills, index=index))


def skill_prompt_tokens(skills: Mapping[str, Skill]) -> dict[str, int]:
    """System-prompt tokens spent on skills: the index alone versus every body inlined."""
    return {"index": count_tokens(skill_index(skills)), "inlined": count_tokens(_preloaded(skills.values()))}


class SkillTool:
    """`Skill {"name": ...}` -> that skill's body."""

    def __init__(self, skills: Mapping[str, Skill]) -> None:
        self.skills = dict(skills)
        self.definition = ToolDefinition(
            "Skill",
            "Load a skill's full text by name (the names are listed under '# Skills' in your instructions).",
            {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": sorted(self.skills)}},
                "required": ["name"],
                "additionalProperties": False,
            },
        )

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        name = require_str(args, "name").strip()
        skill = self.skills.get(name)
        if skill is None:
            raise ToolError(f"unknown skill {name!r}; available: {', '.join(self.skills) or 'none'}")
        return f"# Skill: {skill.name}\n\n{skill.body}"
