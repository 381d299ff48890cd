"""Which agents a request needs. The seam where smart selection plugs in.

Today every request is classified `feature`; the only skips are agents that cannot do their job
with this provider (a web researcher without web search — never a model inventing search results).
The request classifier and the diff re-check replace `select_agents` without changing its callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autodev.specs import WEB_TOOLS, AgentSpec

NO_WEB_SEARCH = "no web search available"


@dataclass(frozen=True)
class Selection:
    change_type: str
    reasons: tuple[str, ...]
    skips: Mapping[str, str] = field(default_factory=dict)  # agent -> why it is skipped


def needs_web_only(spec: AgentSpec) -> bool:
    """An agent whose every listed tool is a web tool has nothing to do without web search."""
    return bool(spec.tools) and all(tool in WEB_TOOLS for tool in spec.tools or ())


def select_agents(
    request: str, repo: Path, specs: Mapping[str, AgentSpec], agents: Iterable[str], *, web_search: bool
) -> Selection:
    skips = {
        name: f"{NO_WEB_SEARCH} with this provider" for name in agents if not web_search and needs_web_only(specs[name])
    }
    return Selection("feature", ("no request classifier yet: every request runs the full pipeline",), skips)
