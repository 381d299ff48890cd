"""What the Bash tool refuses: the allow-list's defaults, each read-only program's dangerous options,
and the path check every argument gets.

Split from the tool itself (`autodev.tools.bash`) because these rules are the security argument: they
read as one list, and change without touching how a command runs.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autodev.sandbox.workspace import ToolError, Workspace

GIT_READ_ONLY = ("status", "diff", "log", "show", "ls-files", "grep", "blame", "rev-parse")
RUFF_SUBCOMMANDS = ("check", "format", "rule", "linter", "version", "config", "help")
_ABSOLUTE = re.compile(r"^(?:[/\\]|[A-Za-z]:[/\\])")


# --- per-program rules --------------------------------------------------------------------------------

Check = Callable[[list[str]], str | None]


@dataclass(frozen=True)
class ProgramRule:
    """What a read-only program may not be asked to do."""

    long: tuple[str, ...] = ()  # refused long options; any abbreviation counts (GNU getopt accepts them)
    short: str = ""  # refused short option letters, alone or inside a cluster such as -iR
    words: tuple[str, ...] = ()  # refused exact arguments (find's -exec style)
    check: Check | None = None  # anything else about the arguments
    extra: Callable[[list[str]], list[str]] | None = None  # arguments added for safety


# Programs the Bash tool may run unless config says otherwise: read-only inspection tools whose
# dangerous options the Bash tool knows and refuses. Interpreters and shells (python, sh, bash, env,
# xargs, make, ...) are left out on purpose: they run arbitrary code outside the sandbox. A user may
# still add them with `bash_allow = [...]`, which replaces this list.
DEFAULT_BASH_ALLOW: tuple[str, ...] = (
    "cat", "cut", "diff", "find", "git", "grep", "head", "ls", "rg", "ruff", "sort", "stat", "tail", "uniq", "wc",
)  # fmt: skip


def _check_git(args: list[str]) -> str | None:
    allowed = ", ".join(GIT_READ_ONLY)
    if not args:
        return f"git needs a subcommand; allowed: {allowed}"
    if args[0].startswith("-"):
        return (
            "git options before the subcommand (-c, -C, -p, --git-dir, --work-tree, --exec-path, ...) are not "
            f"allowed; start with the subcommand ({allowed})"
        )
    if args[0] not in GIT_READ_ONLY:
        return f"git {args[0]} is not allowed: only the read-only subcommands {allowed} may run"
    return None


def _check_ruff(args: list[str]) -> str | None:
    if not args or args[0] in ("-V", "--version", "-h", "--help"):
        return None
    if args[0] not in RUFF_SUBCOMMANDS:
        return f"ruff {args[0]} is not allowed; use one of: {', '.join(RUFF_SUBCOMMANDS)}"
    if args[0] == "format" and not {"--check", "--diff"} & set(args):
        return "ruff format rewrites files; add --check or --diff to see what it would change"
    return None


def _ruff_no_fix(args: list[str]) -> list[str]:
    """`fix = true` in the project's config would make a plain `ruff check` rewrite files."""
    if args and args[0] == "check":
        return ["check", "--no-fix", *args[1:]]
    return args


def _check_uniq(args: list[str]) -> str | None:
    operands, skip, ended = [], False, False
    for arg in args:
        if skip:
            skip = False
        elif ended or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg in ("-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"):
            skip = True
    if len(operands) > 1:
        return "uniq with a second file name writes its output there; give one input file only"
    return None


def _grep_excludes(args: list[str]) -> list[str]:
    return ["--exclude-dir=.git", "--exclude-dir=.autodev", *args]


def _rg_excludes(args: list[str]) -> list[str]:
    """Appended after the model's own options: for rg a later glob wins, so these come last."""
    ours = ["--no-config", "--glob=!.git", "--glob=!.autodev"]
    if "--" in args:
        index = args.index("--")
        return [*args[:index], *ours, *args[index:]]
    return [*args, *ours]


FIND_REFUSED = (
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls", "-L", "-H", "-follow",
)  # fmt: skip

READ_ONLY_RULES: dict[str, ProgramRule] = {
    "cat": ProgramRule(),
    "cut": ProgramRule(),
    "head": ProgramRule(),
    "stat": ProgramRule(),
    "tail": ProgramRule(),
    "wc": ProgramRule(),
    "ls": ProgramRule(long=("--dereference",), short="L"),
    "diff": ProgramRule(long=("--recursive",), short="r"),
    "grep": ProgramRule(long=("--dereference-recursive",), short="R", extra=_grep_excludes),
    "rg": ProgramRule(long=("--pre", "--pre-glob", "--follow", "--hostname-bin"), short="L", extra=_rg_excludes),
    "sort": ProgramRule(long=("--output", "--compress-program", "--temporary-directory"), short="oT"),
    "uniq": ProgramRule(check=_check_uniq),
    "find": ProgramRule(words=FIND_REFUSED),
    "git": ProgramRule(
        long=("--output", "--open-files-in-pager", "--exec-path", "--git-dir", "--work-tree"),
        short="O",
        check=_check_git,
    ),
    "ruff": ProgramRule(
        long=("--fix", "--fix-only", "--add-noqa", "--watch", "--output-file"),
        short="wo",
        check=_check_ruff,
        extra=_ruff_no_fix,
    ),
}
READ_ONLY_PROGRAMS: frozenset[str] = frozenset(READ_ONLY_RULES)
_WHY = {
    "find": "it runs programs, deletes, writes files or follows symlinks",
    "git": "it writes files or runs programs",
    "ls": "it follows symlinks",
    "diff": "diff -r follows symlinks out of the worktree; use git diff --no-index",
    "grep": "grep -R follows symlinks out of the worktree; use -r",
    "rg": "it runs programs or follows symlinks",
    "sort": "it writes files or runs programs",
    "ruff": "it rewrites files or never ends",
}


def option_problem(program: str, rule: ProgramRule, args: list[str]) -> str | None:
    why = _WHY.get(program, "it is not allowed")
    for arg in args:
        if arg == "--":
            break
        if arg in rule.words:
            return f"{program} {arg} is not allowed: {why}"
        if arg.startswith("--"):
            name = arg[2:].split("=", 1)[0]
            if name and any(forbidden[2:].startswith(name) for forbidden in rule.long):
                return f"{program} {arg} is not allowed: {why}"
        elif arg.startswith("-") and len(arg) > 1 and rule.short:
            bad = sorted(set(arg[1:]) & set(rule.short))
            if bad:
                where = "" if arg == f"-{bad[0]}" else f" (in {arg})"
                return f"{program} -{bad[0]}{where} is not allowed: {why}"
    return None


# --- arguments and paths ------------------------------------------------------------------------------


def split_command(command: Any) -> list[str]:
    """The argument vector of a `command` given as a string (shell-style words) or a list."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ToolError(f"could not split the command into words: {exc}") from None
    elif isinstance(command, list) and all(isinstance(word, str) for word in command):
        argv = list(command)
    else:
        raise ToolError("argument 'command' must be a string or a list of strings")
    if not argv:
        raise ToolError("the command is empty")
    return argv


def _values(arg: str) -> list[str]:
    """The places in one argument a path could hide: itself, `--opt=VALUE`, `-fVALUE`."""
    out = [arg]
    if arg.startswith("-") and "=" in arg:
        out.append(arg.split("=", 1)[1])
    elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
        out.append(arg[2:])
    return out


def check_paths(workspace: Workspace, args: list[str]) -> None:
    ended = False
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
        operand = ended or not arg.startswith("-") or arg == "-"
        if arg == "--" and not ended:
            ended = True
            continue
        candidates = [arg] if operand else ([arg.split("=", 1)[1]] if "=" in arg else [])
        for value in candidates:
            if value and value != "-" and ("/" in value or "\\" in value or os.path.lexists(workspace.root / value)):
                workspace.resolve(value)  # refuses (and records) symlinks out, .git/, .autodev/
