"""Run events: what the orchestrator tells whoever is watching (the CLI's progress lines, tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "run_started",
    "agent_started",
    "agent_turn",
    "agent_tool",  # an agent starts a tool call; detail: the call in short (`Edit textkit/strings.py`)
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


CALL_TARGETS = ("file_path", "path", "command", "url", "query")  # what a call is about, by key, first found
CALL_SHOWN = 160  # characters of a call's description: enough for a path or a short command


def describe_call(tool: str, arguments: Mapping[str, Any]) -> str:
    """A tool call in short, for a person watching: the tool and what it is about (`Read textkit/a.py`,
    `Grep slugify in textkit`, `Bash pytest -q`), on one line. Not redacted here: whoever shows it does."""

    def value(key: str) -> str | None:
        found = arguments.get(key)
        return found if isinstance(found, str) and found.strip() else None

    pattern, where = value("pattern"), value("path")
    if pattern is not None:
        about = f"{pattern} in {where}" if where else pattern
    else:
        about = next((found for key in CALL_TARGETS if (found := value(key)) is not None), "")
    line = " ".join(f"{tool} {about}".split())
    return line if len(line) <= CALL_SHOWN else line[: CALL_SHOWN - 1] + "…"
