"""Settings: the packaged defaults, overridden by ./catalog.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DEFAULTS = Path(__file__).resolve().parent.parent / "config" / "defaults.toml"


def load(override: Path | None = None) -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    if override is not None and override.is_file():
        for section, values in tomllib.loads(override.read_text(encoding="utf-8")).items():
            settings.setdefault(section, {}).update(values)
    return settings
