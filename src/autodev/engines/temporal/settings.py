"""Where Temporal is and what all workers share: `[temporal]` in config, then environment, then flags.

Precedence, lowest first: defaults, the repository's `[temporal]` table, the Temporal CLI's own
environment variables (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`), command-line flags. Model-call
rates are the repository's `requests_per_minute` / `tokens_per_minute` unless `[temporal]` sets its
own: on Temporal they hold for the whole cluster instead of one process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autodev.config.settings import Settings, TemporalConfig, load_settings
from autodev.core import gitops
from autodev.core.errors import UserError

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "autodev"
DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[^/\s]+@[^/\s]+:")  # scheme://... or user@host:path


@dataclass(frozen=True)
class TemporalSettings:
    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE
    remote: str | None = None  # None: the repository itself
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    burst: int | None = None
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S


def resolve_remote(remote: str, repo: Path | None) -> str:
    """A URL stays as it is; a path is made absolute against the repository, so every worker gets the same."""
    if _URL.match(remote):
        return remote
    path = Path(remote).expanduser()
    if not path.is_absolute() and repo is not None:
        path = repo / path
    return str(path.resolve())


def temporal_settings(
    settings: Settings | None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    task_queue: str | None = None,
    env: Mapping[str, str] | None = None,
) -> TemporalSettings:
    env = os.environ if env is None else env
    cfg = (settings.temporal if settings is not None else None) or TemporalConfig()
    repo = settings.repo if settings is not None else None
    remote = resolve_remote(cfg.remote, repo) if cfg.remote else None
    return TemporalSettings(
        address=address or env.get("TEMPORAL_ADDRESS") or cfg.address or DEFAULT_ADDRESS,
        namespace=namespace or env.get("TEMPORAL_NAMESPACE") or cfg.namespace or DEFAULT_NAMESPACE,
        task_queue=task_queue or cfg.task_queue or DEFAULT_TASK_QUEUE,
        remote=remote,
        requests_per_minute=cfg.requests_per_minute or (settings.requests_per_minute if settings else None),
        tokens_per_minute=cfg.tokens_per_minute or (settings.tokens_per_minute if settings else None),
        burst=cfg.burst,
        heartbeat_timeout_s=cfg.heartbeat_timeout_s or DEFAULT_HEARTBEAT_TIMEOUT_S,
    )


def settings_for(path: Path) -> Settings | None:
    """The settings of the repository at `path`, or None outside any repository (defaults then apply)."""
    try:
        repo = gitops.find_repo(path)
    except UserError:
        return None
    return load_settings(repo)
