"""What `autodev config show` reports: every key's value and where it came from, with secrets redacted.

Kept below the CLI so the rows are plain data a test (or `--json`) reads without parsing text.
A table merged entry by entry (`tiers`, `agents`, `write_scopes` ...) is one row per entry, since
each entry has its own source; an empty one is a single row.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.config.providers import capabilities
from autodev.config.schema import KEYS, per_entry
from autodev.config.settings import Settings
from autodev.config.sources import user_config_file
from autodev.core.redact import redact_data


@dataclass(frozen=True)
class ShownSetting:
    key: str  # a key, or `table.entry`
    value: Any  # as JSON would hold it, secrets redacted
    source: str  # `default`, a file's path, `env AUTODEV_...`, `--flag`, `default for <provider>`


@dataclass(frozen=True)
class ConfigReport:
    repo: str | None
    user_file: str
    user_file_exists: bool
    repo_file: str | None  # the repository file read, if any
    provider: str | None
    capabilities: dict[str, Any] | None  # the provider's profile (web search, caching, usage, tool calls)
    settings: list[ShownSetting]
    ignored: list[str]  # repository settings, agents and skills left out until `autodev trust` approves them

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def repo_config_file(repo: Path | None) -> Path | None:
    """The repository file `load_settings` reads: `.autodev/config.toml`, else a `[tool.autodev]` pyproject."""
    if repo is None:
        return None
    own = repo / ".autodev" / "config.toml"
    if own.is_file():
        return own
    pyproject = repo / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    return pyproject if isinstance(data.get("tool", {}).get("autodev"), dict) else None


def setting_rows(settings: Settings) -> list[ShownSetting]:
    dumped = redact_data(settings.model_dump(mode="json", include=set(KEYS)))
    rows = []
    for name in KEYS:
        value = dumped[name]
        if per_entry(name) and value:
            rows += [ShownSetting(f"{name}.{e}", v, settings.source_of(f"{name}.{e}")) for e, v in value.items()]
        else:
            rows.append(ShownSetting(name, value, settings.source_of(name)))
    return rows


def config_report(settings: Settings) -> ConfigReport:
    offered = capabilities(settings)
    user_file = user_config_file()
    repo_file = repo_config_file(settings.repo)
    return ConfigReport(
        repo=str(settings.repo) if settings.repo is not None else None,
        user_file=str(user_file),
        user_file_exists=user_file.is_file(),
        repo_file=str(repo_file) if repo_file is not None else None,
        provider=settings.provider,
        capabilities=asdict(offered) if offered is not None else None,
        settings=setting_rows(settings),
        ignored=settings.ignored_notes(),
    )
