"""Run events: what the orchestrator tells whoever is watching (the CLI's progress lines, tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "run_started",
    "agent_started",
    "agent_turn",
    "agent_finished",
    "agent_skipped",
    "agent_blocked",
    "gate",
    "note",
    "run_finished",
]


@dataclass(frozen=True)
class RunEvent:
    kind: EventKind
    agent: str | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Reporter = Callable[[RunEvent], None]


def silent(event: RunEvent) -> None:
    """A reporter that ignores everything (library use, tests)."""
