"""git as agents' tools run it (Bash's read-only git, Grep's file listing): autodev's pins, from the
environment.

A tool runs `git` as the model typed it, so the pins cannot go on the command line as `-c`; git reads
GIT_CONFIG_COUNT/KEY_n/VALUE_n with the same precedence (above every config file). They are autodev's
own (`gitops.PINNED_CONFIG`, the filter pins) and a few more for git that only reads.
"""

from __future__ import annotations

from pathlib import Path

from autodev.core.gitops import PINNED_CONFIG, filter_pins

# Agents' Bash git (read-only subcommands, `autodev.tools.bash`) gets these on top, through the
# environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n: command-line precedence, no argv change): it never fetches
# (a partial clone's lazy fetch, any protocol), never verifies signatures with a configured program
# (`--format=%G?`, `log.showSignature`), never writes the untracked cache, and works in a worktree whose
# owner differs inside the jail. Textconv drivers are switched off by `--no-textconv` on the command line.
TOOL_PINNED_CONFIG: tuple[tuple[str, str], ...] = (
    *PINNED_CONFIG,
    ("core.untrackedCache", "false"),
    ("safe.directory", "*"),
    ("protocol.allow", "never"),
    ("log.showSignature", "false"),
    ("gpg.program", "false"),
    ("gpg.openpgp.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.program", "false"),
)


def tool_git_environment(worktree: Path) -> dict[str, str]:
    """What git started by an agent's tool (Bash) gets in its environment: TOOL_PINNED_CONFIG and the filter
    pins as GIT_CONFIG_COUNT/KEY_n/VALUE_n (the command line's precedence over every config file), no
    system config or attributes, and no repository above the worktree (GIT_CEILING_DIRECTORIES)."""
    pins = [*TOOL_PINNED_CONFIG, *filter_pins(worktree)]
    env = {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(worktree.parent),
        "GIT_CONFIG_COUNT": str(len(pins)),
    }
    for index, (key, value) in enumerate(pins):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env
