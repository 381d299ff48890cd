"""The path check every Bash argument gets, whatever the program: nothing absolute, no `..`, and every
word that could name a file resolved through the `Workspace` (symlinks out, `.git/`, `.autodev/` refused).
"""

from __future__ import annotations

import os
import re

from autodev.sandbox.workspace import Workspace

_ABSOLUTE = re.compile(r"^(?:[/\\]|[A-Za-z]:[/\\])")


def resolve_all(workspace: Workspace, values: list[str]) -> None:
    """Resolve each file name through the workspace: it refuses (and records) symlinks out, .git/, .autodev/."""
    for value in values:
        if value and value != "-":
            workspace.resolve(value)


def _values(arg: str) -> list[str]:
    """The places in one argument a path could hide: itself, `--opt=VALUE`, `-fVALUE`."""
    out = [arg]
    if arg.startswith("-") and "=" in arg:
        out.append(arg.split("=", 1)[1])
    elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
        out.append(arg[2:])
    return out


def check_syntax(workspace: Workspace, args: list[str]) -> None:
    """Refuse NUL bytes, absolute paths and `..` anywhere: in a word, after `=`, or glued to a short option."""
    for arg in args:
        if "\x00" in arg:
            raise workspace.refuse("an argument contains a NUL byte")
        for value in _values(arg):
            if _ABSOLUTE.match(value):
                raise workspace.refuse(
                    f"{arg!r}: absolute paths are not allowed; use a path relative to the repository root "
                    "(to search for text like this, use the Grep tool)"
                )
            if ".." in re.split(r"[/\\]", value):
                raise workspace.refuse(f"{arg!r}: '..' is not allowed; paths stay inside the repository")


def _glued_values(arg: str) -> list[str]:
    """Where a file name could start inside a short-option cluster: after each leading run of letters
    (`-Sfile`, `-nSfile`), never mid-value (`-L1,2:src/x` has only `1,2:src/x`; `-Sa/b` not `/b`)."""
    if arg.startswith("--") or not arg.startswith("-"):
        return []
    tails = []
    for index in range(2, len(arg)):
        if not arg[index - 1].isalpha():
            break
        if arg[index] not in "/\\":
            tails.append(arg[index:])
    return tails


def check_paths(workspace: Workspace, args: list[str]) -> None:
    """Whatever the program: every word that could name a file in the worktree is resolved through it.

    The safety net under the per-program rules (and the only check for programs a user adds to the
    allow-list): a word, the value after `=`, or any tail of a short-option cluster (`-Slinkfile`) that
    contains a `/` or names an existing file is resolved, so symlinks out, `.git/` and `.autodev/` are
    refused whichever option carries them."""
    check_syntax(workspace, args)
    ended = False
    for arg in args:
        operand = ended or not arg.startswith("-") or arg == "-"
        if arg == "--" and not ended:
            ended = True
            continue
        option_values = [arg.split("=", 1)[1]] if "=" in arg else _glued_values(arg)
        candidates = [arg] if operand else option_values
        for value in candidates:
            if value and value != "-" and ("/" in value or "\\" in value or os.path.lexists(workspace.root / value)):
                workspace.resolve(value)  # refuses (and records) symlinks out, .git/, .autodev/
