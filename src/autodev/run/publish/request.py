"""What `--push` / `--pr` asked for: a record the plan carries and state.json keeps in `options.publish`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PublishRequest:
    """What the command line asked for; kept in state.json's `options.publish`, so a resumed run publishes too."""

    remote: str = "origin"
    pr: bool = False
    draft: bool = False
    base: str | None = None  # the pull request's base branch (resolved before the run starts)

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "pr": self.pr, "draft": self.draft, "base": self.base}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> PublishRequest | None:
        data = options.get("publish")
        if not isinstance(data, dict):
            return None
        base = data.get("base")
        return cls(str(data.get("remote") or "origin"), bool(data.get("pr")), bool(data.get("draft")), base or None)
