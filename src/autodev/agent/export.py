"""autodev's agents as Claude Code subagent files (`.claude/agents/<name>.md`, or a plugin's `agents/`).

An agent file already is a Claude Code subagent: `name`, `description`, `tools`, `model` and the body,
the prompt. Claude Code ignores the keys it does not know, so autodev's own (tier, budgets, write scope,
verdict ...) stay in the export: read back by autodev, an exported file keeps its capabilities. One name
changes: Claude Code has no `RunTests`, so an agent that runs the tests gets `Bash` there (for autodev
that is a wider tool, which a repository's agent file only gets once `autodev trust` approves it).
The plugin's `agents/` are exactly this function's output (tests/test_claude_plugin.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from autodev.agent.frontmatter import split_frontmatter
from autodev.agent.specs import AgentFileError, AgentSpec, builtin_agents_dir, load_agent_file

CLAUDE_CODE_NAMES = {"RunTests": "Bash"}  # autodev's tools that Claude Code offers under another name


def claude_code_tools(tools: tuple[str, ...]) -> list[str]:
    """`tools` with autodev-only names mapped to Claude Code's, in order, without duplicates."""
    mapped: list[str] = []
    for tool in tools:
        name = CLAUDE_CODE_NAMES.get(tool, tool)
        if name not in mapped:
            mapped.append(name)
    return mapped


def claude_code_agent(spec: AgentSpec) -> str:
    """The text of `spec`'s Claude Code subagent file."""
    frontmatter, _body, _line = split_frontmatter(spec.source, spec.source.read_text(encoding="utf-8"), AgentFileError)
    fields: dict[str, Any] = yaml.safe_load(frontmatter) or {}
    if spec.tools is not None:
        fields["tools"] = ", ".join(claude_code_tools(spec.tools))
    header = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=100_000)
    return f"---\n{header}---\n{spec.prompt.strip()}\n"


def builtin_agents() -> dict[str, AgentSpec]:
    """The agents autodev ships, and only those (no user-level or repository file)."""
    specs = (load_agent_file(path) for path in sorted(builtin_agents_dir().glob("*.md")))
    return {spec.name: spec for spec in specs}


def export_agents(specs: dict[str, AgentSpec], dest: Path) -> list[Path]:
    """Write each agent to `dest/<name>.md` (the directory is made); the paths written, by name."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in sorted(specs.items()):
        path = dest / f"{name}.md"
        path.write_text(claude_code_agent(spec), encoding="utf-8")
        written.append(path)
    return written
