"""Tool names an agent file may list, and which of them this build can actually offer.

Names follow Claude Code so `.claude/agents/*.md` files carry over unchanged. A known Claude Code
tool we don't implement is accepted (with a warning) but never offered to the model; a name nobody
knows is an error in the agent file, since it is almost always a typo.
"""

from __future__ import annotations

import re

# `Skill` is offered only when skills exist (autodev.agent.skills): the orchestrator adds it to the available tools.
IMPLEMENTED: frozenset[str] = frozenset({"Read", "Write", "Edit", "Glob", "Grep", "Bash", "RunTests", "Skill"})

# Known names that this build does not offer (yet, or ever): listed so their agent files still load.
NOT_OFFERED: frozenset[str] = frozenset(
    {
        "WebSearch",
        "WebFetch",
        "Task",
        "Agent",
        "TodoWrite",
        "NotebookEdit",
        "NotebookRead",
        "MultiEdit",
        "LS",
        "BashOutput",
        "KillShell",
        "KillBash",
        "SlashCommand",
        "ExitPlanMode",
    }
)

WRITING_TOOLS: frozenset[str] = frozenset({"Write", "Edit"})

_PERMISSION_PATTERN = re.compile(r"^([A-Za-z]+)\(.*\)$")  # Claude Code's `Bash(git:*)` form


def base_name(entry: str) -> str:
    """`Bash(git:*)` -> `Bash`; plain names unchanged."""
    match = _PERMISSION_PATTERN.match(entry)
    return match.group(1) if match else entry


def is_known(entry: str) -> bool:
    name = base_name(entry)
    return name in IMPLEMENTED or name in NOT_OFFERED or name.startswith("mcp__")
