"""The user's approvals of repositories: `trusted.json` beside the user-level config, never in a repository.

It lives in the user's own directory (`$XDG_CONFIG_HOME/autodev/`, by default `~/.config/autodev/`)
because a repository must not be able to approve itself. Each approval is keyed by the repository's
real path (a symlink or a relative path names the same checkout) and holds the digest of what was
approved (`autodev.config.trust`): anything else is not approved.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.agent.specs import user_config_dir
from autodev.core.clock import iso, utc_now
from autodev.core.errors import UserError
from autodev.core.jsonio import write_json_atomic

TRUST_FILE = "trusted.json"
VERSION = 1


@dataclass(frozen=True)
class Approval:
    digest: str
    approved_at: str
    items: list[str]  # what was approved, as the user saw it: for `autodev trust --json` and curious eyes


def trust_file() -> Path:
    return user_config_dir() / TRUST_FILE


def repo_key(repo: Path) -> str:
    return str(repo.resolve())


def _broken(path: Path, why: str) -> UserError:
    return UserError(f"{path}: {why}", hint="fix it, or remove it and approve your repositories again")


def _approval(path: Path, key: str, entry: Any) -> Approval:
    if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
        raise _broken(path, f"the approval of {key} has no digest")
    items = entry.get("items")
    return Approval(
        entry["digest"],
        str(entry.get("approved_at", "")),
        [str(item) for item in items] if isinstance(items, list) else [],
    )


def read_approvals() -> dict[str, Approval]:
    """Every recorded approval by repository path; none when the file does not exist yet."""
    path = trust_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise _broken(path, f"cannot read the trusted repositories: {exc}") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise _broken(path, "not valid JSON") from None
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, dict):
        raise _broken(path, 'expected {"version": 1, "repos": {...}}')
    return {str(key): _approval(path, str(key), entry) for key, entry in repos.items()}


def _write(approvals: dict[str, Approval]) -> None:
    path = trust_file()
    try:
        write_json_atomic(path, {"version": VERSION, "repos": {key: asdict(a) for key, a in sorted(approvals.items())}})
    except OSError as exc:
        raise UserError(f"{path}: cannot record the approval: {exc.strerror}") from None


def record_approval(repo: Path, digest: str, items: list[str]) -> Approval:
    approvals = read_approvals()
    approval = Approval(digest, iso(utc_now()), items)
    approvals[repo_key(repo)] = approval
    _write(approvals)
    return approval


def revoke_approval(repo: Path) -> bool:
    """Forget `repo`'s approval; False when there was none."""
    approvals = read_approvals()
    if approvals.pop(repo_key(repo), None) is None:
        return False
    _write(approvals)
    return True
