"""Per-agent permissions: which tools an agent is offered, and where it may write.

Two layers. The agent file's `tools:` list (and `disallowedTools:`) says which tools it may use at all.
Write scopes (config `write_scopes`, defaults in `autodev.config.settings.DEFAULT_WRITE_SCOPES`) say where
its writes may land: test-master only test files, doc-master only documentation, the reviewer,
security-auditor, researchers, planner and issue-creator nowhere, the implementer anywhere in the
worktree (`.git/` and `.autodev/` stay off limits to everyone). An agent with no entry writes
wherever its tools allow.

A read-only agent is never offered Write or Edit, and Bash is offered to an agent with a limited
scope only while every program on the allow-list is one whose writing options the Bash tool refuses.
Write scopes are a guard rail for cooperative agents, not a wall against hostile code: an agent that
may run the project's tests (RunTests) runs code it or another agent wrote.

The orchestrator and `autodev agents` use it like this::

    available = available_tools(settings, skills)                  # once per run: every tool, Skill if any
    given = agent_tools(spec, settings, available, read_only=...)  # this agent's tools and write scope
    workspace = shared_workspace.for_agent(given.scope)            # writes outside the scope refused
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autodev.agent.skills import Skill, SkillTool
from autodev.agent.specs import AgentSpec
from autodev.config.settings import Settings
from autodev.sandbox.scopes import DEFAULT_WRITE_SCOPES, UNRESTRICTED, WriteScope
from autodev.tools.bash import Bash, Pattern
from autodev.tools.files import builtin_tools
from autodev.tools.names import WRITING_TOOLS

_BASH_PATTERN = re.compile(r"^Bash\((.*)\)$", re.S)


def scope_for(agent: str, settings: Settings | None = None) -> WriteScope:
    """The write scope of `agent` under `settings` (the built-in defaults when None)."""
    if settings is not None and agent in settings.write_scopes:
        source = settings.sources.get(f"write_scopes.{agent}", "default")
        return WriteScope(agent, tuple(settings.write_scopes[agent]), source)
    if settings is None and agent in DEFAULT_WRITE_SCOPES:
        return WriteScope(agent, DEFAULT_WRITE_SCOPES[agent])
    return WriteScope(agent, UNRESTRICTED, "no write scope configured: its tools list decides")


def bash_patterns(spec: AgentSpec) -> tuple[Pattern, ...] | None:
    """Claude Code's `Bash(git diff:*)` entries as command prefixes; None when plain Bash is allowed.

    `Bash(git diff:*)` and `Bash(git diff *)` allow commands starting with `git diff`; `Bash(ls)`
    allows exactly `ls`. The allow-list and each program's rules still apply.
    """
    if spec.tools is None:
        return None
    patterns: list[Pattern] = []
    for entry in spec.tools:
        if entry == "Bash":
            return None
        match = _BASH_PATTERN.match(entry)
        if match is None:
            continue
        inner = match.group(1).strip()
        if inner in ("", "*", ":*"):
            return None
        prefix = inner.endswith("*")
        inner = inner.removesuffix("*").removesuffix(":").strip() if prefix else inner
        try:
            words = tuple(shlex.split(inner))
        except ValueError:
            continue
        if words:
            patterns.append((words, prefix))
    return tuple(patterns)


def bash_for(spec: AgentSpec, settings: Settings | None = None) -> Bash:
    """The Bash tool as this agent gets it: the configured allow-list, narrowed by its `Bash(...)` entries."""
    if settings is None:
        return Bash(patterns=bash_patterns(spec))
    return Bash(settings.bash_allow, settings.bash_timeout_s, patterns=bash_patterns(spec))


def tools_for_agent(
    spec: AgentSpec, settings: Settings | None, available: Mapping[str, Any], *, read_only: bool = False
) -> dict[str, Any]:
    """The tools to offer `spec`'s agent: its `tools:` list, minus what its write scope rules out.

    `read_only` is the workspace's own flag (no worktree: the user's checkout): nobody writes then.
    """
    scope = scope_for(spec.name, settings)
    offered: dict[str, Any] = {}
    for name in spec.offered_tools():
        if name not in available:
            continue
        if name in WRITING_TOOLS and (scope.read_only or read_only):
            continue
        if name == "Bash":
            bash = bash_for(spec, settings)
            if not bash.allow or (bash.can_write and (read_only or not scope.unrestricted)):
                continue
            offered[name] = bash
            continue
        offered[name] = available[name]
    return offered


def configured_tools(settings: Settings) -> dict[str, Any]:
    """Every implemented tool, Bash with the configured allow-list and timeout."""
    return builtin_tools(Bash(settings.bash_allow, settings.bash_timeout_s))


def available_tools(settings: Settings, skills: Mapping[str, Skill]) -> dict[str, Any]:
    """Every tool a run can offer: the configured ones, and Skill when there is a skill to load."""
    available = configured_tools(settings)
    if skills:
        available["Skill"] = SkillTool(skills)
    return available


@dataclass(frozen=True)
class AgentTools:
    """What one agent is given: the tools it is offered and the scope its writes must stay in."""

    tools: dict[str, Any]
    scope: WriteScope


def agent_tools(
    spec: AgentSpec,
    settings: Settings,
    available: Mapping[str, Any],
    *,
    read_only: bool = False,
    can_run_tests: bool = True,
) -> AgentTools:
    """The tools and write scope of `spec`'s agent, assembled one way for a run and for `autodev agents`.

    `read_only`: no worktree (the user's checkout), nobody writes. `can_run_tests=False`: RunTests is
    withdrawn (no test command was found, or there is no worktree to run the tests in).
    """
    offered = tools_for_agent(spec, settings, available, read_only=read_only)
    if not can_run_tests:
        offered.pop("RunTests", None)
    return AgentTools(offered, scope_for(spec.name, settings))
