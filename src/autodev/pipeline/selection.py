"""Which agents a request needs. The seam where smart selection plugs in.

Today every request is classified `feature` and runs the full pipeline; the classifier and the
diff re-check replace `select_agents` without changing its callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Selection:
    change_type: str
    reasons: tuple[str, ...]
    skips: Mapping[str, str] = field(default_factory=dict)  # agent -> why it is skipped


def select_agents(request: str, repo: Path) -> Selection:
    return Selection("feature", ("no request classifier yet: every request runs the full pipeline",))
