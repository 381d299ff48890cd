"""`autodev init`: write the repository's `.autodev/config.toml` from what autodev detects, then say what next."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape as esc

from autodev.apps.cli.common import err, out, repo_option
from autodev.core.errors import UserError
from autodev.models.registry import provider_names


def _may_overwrite(existing: tuple[str, ...], yes: bool) -> bool:
    """--yes, or the user's yes on a terminal; elsewhere an existing configuration is an error (exit 2)."""
    if not existing or yes:
        return True
    what = " and ".join(existing)
    if not sys.stdin.isatty():
        raise UserError(
            f"{what} already configures this repository",
            hint="autodev init --yes replaces it (the old file is kept as .autodev/config.toml.bak)",
        )
    try:
        return click.confirm(f"{what} already configures this repository. Replace it?", default=False, err=True)
    except click.Abort:
        return False


@click.command("init")
@repo_option
@click.option("--provider", type=click.Choice(provider_names()), default=None, help="Write this provider.")
@click.option("--yes", "-y", is_flag=True, help="Replace an existing configuration without asking.")
def init(repo: Path, provider: str | None, yes: bool) -> None:
    """Write .autodev/config.toml: the detected provider, tier models, test command and environment,
    each line commented with why. Asks before replacing a configuration (--yes replaces it)."""
    from autodev.apps.setup.init_config import approve_own, draft_config, write_config
    from autodev.core import gitops

    root = gitops.find_repo(repo)
    draft = draft_config(root, provider)
    if not _may_overwrite(draft.existing, yes):
        out.print("kept the existing configuration (autodev init --yes replaces it)")
        raise SystemExit(1)
    backup = write_config(draft)
    out.print(esc(draft.text.rstrip()))
    out.print(f"\nwrote {esc(str(draft.path))}" + (f" (the old file is {esc(str(backup))})" if backup else ""))
    if "pyproject.toml [tool.autodev]" in draft.existing:
        err.print("[yellow]note:[/] pyproject.toml [tool.autodev] is now ignored: .autodev/config.toml wins")
    approval = approve_own(root)
    if approval.approved:
        out.print("approved what it wrote for this repository (you chose it by running init):")
        out.print("  `autodev trust --revoke` undoes that; any later change needs `autodev trust` again")
    else:
        out.print("[yellow]not approved yet:[/] the repository also has settings you have not reviewed:")
        for item in approval.others:
            out.print(f"  {esc(item)}")
        out.print("  review them all, this file's test_command included, with: autodev trust")
    where = f" --repo {esc(str(root))}" if root != Path.cwd().resolve() else ""
    out.print("\nnext:")
    if draft.provider is None:
        out.print("  export ANTHROPIC_API_KEY=...   # or OPENAI_API_KEY, or OPENAI_BASE_URL for a local server")
        out.print(f"  autodev init --yes{where}      # writes the provider and its models")
    out.print(f"  autodev doctor{where}          # checks the key, the models, the tests in the jail, git")
    out.print(f'  autodev plan "your request"{where}')
    out.print(f'  autodev run "your request"{where} --pr')
    out.print("  (to share the file, commit it: whoever clones it approves its test_command with `autodev trust`)")
