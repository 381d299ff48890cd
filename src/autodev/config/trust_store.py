"""The user's approvals of repositories: `trusted.json` beside the user-level config, never in a repository.

It lives in the user's own directory (`$XDG_CONFIG_HOME/autodev/`, by default `~/.config/autodev/`)
because a repository must not be able to approve itself. Each approval is keyed by the repository's
real path (a symlink or a relative path names the same checkout) and holds the digest of what was
approved (`autodev.config.trust`): anything else is not approved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autodev.agent.specs import user_config_dir
from autodev.core.clock import iso, utc_now
from autodev.core.errors import UserError
from autodev.core.jsonio import write_json_atomic
from autodev.core.locks import FileLock

TRUST_FILE = "trusted.json"
VERSION = 1


@dataclass(frozen=True)
class Approval:
    digest: str
    approved_at: str
    items: list[str]  # what was approved, as the user saw it: for `autodev trust --json` and curious eyes
    fixture: bool = False  # approved by autodev for a repository it made itself (demo, eval, bench)


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
        entry.get("fixture") is True,
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


def _update(change: Callable[[dict[str, Approval]], bool]) -> bool:
    """Read, `change` (True: something changed) and write back under a lock, so approvals made at once
    (parallel eval trials, two terminals) are all kept. Fixtures' approvals of repositories that are gone
    are dropped on the way: a demo or eval leaves no trace here once its temporary repository is removed."""
    path = trust_file()
    try:
        with FileLock(path.with_name(f"{TRUST_FILE}.lock")):
            approvals = read_approvals()
            changed = change(approvals)
            kept = {k: a for k, a in approvals.items() if not a.fixture or Path(k).is_dir()}
            if changed or len(kept) != len(approvals):
                data = {"version": VERSION, "repos": {key: asdict(a) for key, a in sorted(kept.items())}}
                write_json_atomic(path, data)
    except OSError as exc:
        raise UserError(f"{path}: cannot record the approval: {exc.strerror or exc}") from None
    return changed


def record_approval(repo: Path, digest: str, items: list[str], *, fixture: bool = False) -> Approval:
    approval = Approval(digest, iso(utc_now()), items, fixture)

    def add(approvals: dict[str, Approval]) -> bool:
        approvals[repo_key(repo)] = approval
        return True

    _update(add)
    return approval


def revoke_approval(repo: Path) -> bool:
    """Forget `repo`'s approval; False when there was none."""
    return _update(lambda approvals: approvals.pop(repo_key(repo), None) is not None)
