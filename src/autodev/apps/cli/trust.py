"""`autodev trust`: show what a repository widens (commands it runs, tools its agents get) and approve it.

Until approved, those settings, agent files and skills are left out of every run (docs/config.md,
"Trust"); the approval covers exactly the content shown, so a later change needs approving again.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import json_option, out, print_json, repo_option
from autodev.config.trust import TrustCheck, Widening, approve, repo_trust
from autodev.config.trust_store import revoke_approval, trust_file
from autodev.core import gitops
from autodev.core.redact import redact


def _item_json(item: Widening) -> dict[str, str]:
    return {"kind": item.kind, "name": item.name, "source": item.source, "detail": redact(item.detail)}


def _check_json(check: TrustCheck, recorded: bool) -> dict[str, object]:
    return {
        "repo": str(check.repo),
        "status": "trusted" if recorded else check.status,
        "digest": check.digest,
        "approved_at": check.approved_at,
        "items": [_item_json(item) for item in check.items],
        "trust_file": str(trust_file()),
    }


def _show(check: TrustCheck) -> None:
    out.print(f"repository: {esc(str(check.repo))}")
    out.print("These settings widen what runs or what agents may do:")
    for item in check.items:
        out.print(f"  {esc(item.label())} {esc(redact(item.detail))}  [dim]({esc(item.source)})[/]")
    if check.status == "changed":
        out.print(f"[yellow]they changed since you approved them ({esc(str(check.approved_at))})[/]")


def _confirmed() -> bool:
    """The user's yes; no answer at all (stdin closed, nothing piped in) is a no."""
    try:
        return click.confirm("Approve them for this repository?", default=False, err=True)
    except click.Abort:
        return False


@click.command("trust")
@repo_option
@json_option
@click.option("--yes", "-y", is_flag=True, help="Approve without asking (with --json: approve; without: only show).")
@click.option("--revoke", is_flag=True, help="Forget this repository's approval: its widening settings are ignored.")
def trust(repo: Path, as_json: bool, yes: bool, revoke: bool) -> None:
    """Approve the repository's settings that widen what runs: test_command, bash_allow, write_scopes,
    sandbox, agent files that add tools or write scope, skills that carry scripts.

    Until approved they are ignored (each run says which). The approval, kept in your user-level
    config directory, covers exactly what is shown: any change to them needs approving again.
    """
    root = gitops.find_repo(repo)
    if revoke:
        removed = revoke_approval(root)
        if as_json:
            print_json({"repo": str(root), "revoked": removed})
        else:
            out.print(f"{'revoked the approval of' if removed else 'no approval recorded for'} {esc(str(root))}")
        return
    check = repo_trust(root)
    if check.status in ("nothing", "trusted"):
        if as_json:
            print_json(_check_json(check, recorded=False))
        elif check.status == "nothing":
            out.print(f"{esc(str(root))}: nothing to approve (no setting, agent or skill here widens what runs)")
        else:
            out.print(f"{esc(str(root))}: already approved ({esc(str(check.approved_at))}); nothing changed since")
        return
    if as_json and not yes:  # a query: JSON never prompts
        print_json(_check_json(check, recorded=False))
        return
    if not as_json:
        _show(check)
    if not yes and not _confirmed():
        out.print("not approved: they stay ignored (`autodev trust --yes` approves without asking)")
        raise SystemExit(1)
    approve(check)
    if as_json:
        print_json(_check_json(check, recorded=True))
    else:
        out.print(f"approved: autodev uses them in {esc(str(root))} until they change")
