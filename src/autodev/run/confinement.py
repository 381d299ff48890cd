"""Which jail a run's executed code gets, from its settings: checked before a run starts, built per step.

`prepare` calls `require_jail` so a run that can't be confined stops before anything is written
(exit 2, with how to install bubblewrap or how to turn the sandbox off on purpose). `autodev plan`
shows `jail_line` instead. The gate, RunTests, Bash and the analysers get their `Jail` from `run_jail`.
"""

from __future__ import annotations

from pathlib import Path

from autodev.config.settings import Settings
from autodev.core.errors import UserError
from autodev.sandbox.jail import INSTALL_HINT, Jail, SandboxPolicy, jail_for


def sandbox_policy(settings: Settings) -> SandboxPolicy:
    chosen = settings.sandbox
    return SandboxPolicy(mode=chosen.mode, network=chosen.network, env=tuple(chosen.env))


def jail_line(settings: Settings) -> str:
    """What `autodev plan` says about the jail: the one a run would use, or why it would refuse to run."""
    try:
        return run_jail(settings, Path("."), Path(".")).describe()
    except UserError as exc:
        return f"unavailable ({exc.message}): a run would stop before executing anything; {INSTALL_HINT}"


def require_jail(settings: Settings) -> None:
    """Raise the `UserError` a run gets when the sandbox it asks for can't be had here."""
    if settings.repo is not None:
        run_jail(settings, settings.repo / ".autodev", settings.repo)


def run_jail(settings: Settings, worktree: Path, checkout: Path, *, writable: bool = True) -> Jail:
    """The jail for a run working in `worktree` of `checkout` (its code in the worktree, its `.git` read-only)."""
    return jail_for(sandbox_policy(settings), worktree, checkout, writable=writable)
