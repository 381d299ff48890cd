"""What the Bash tool refuses: the allow-list's defaults, each read-only program's dangerous options,
and the path check every argument gets.

Split from the tool itself (`autodev.tools.bash`) because these rules are the security argument: they
read as one list, and change without touching how a command runs.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools import bash_programs as programs
from autodev.tools.bash_git import GIT_READ_ONLY as GIT_READ_ONLY
from autodev.tools.bash_git import check_git, git_safety
from autodev.tools.bash_options import OptionRefused, Options, Parsed, parse
from autodev.tools.bash_paths import check_paths as check_paths
from autodev.tools.bash_paths import check_syntax, resolve_all

RUFF_SUBCOMMAND_NAMES = tuple(programs.RUFF_SUBCOMMANDS)


# --- per-program rules --------------------------------------------------------------------------------

Check = Callable[[list[str], Workspace], str | None]


@dataclass(frozen=True)
class ProgramRule:
    """What a read-only program may not be asked to do."""

    long: tuple[str, ...] = ()  # refused long options; any abbreviation counts (GNU getopt accepts them)
    short: str = ""  # refused short option letters, alone or inside a cluster such as -iR
    words: tuple[str, ...] = ()  # refused exact arguments
    check: Check | None = None  # the program's own rule: its options, operands and the files they name
    extra: Callable[[list[str]], list[str]] | None = None  # arguments added for safety


# Programs the Bash tool may run unless config says otherwise: read-only inspection tools whose
# options the Bash tool knows (allow-lists in `autodev.tools.bash_programs`). Interpreters and shells
# (python, sh, bash, env, xargs, make, ...) are left out on purpose: they run arbitrary code outside the
# sandbox. A user may still add them with `bash_allow = [...]`, which replaces this list.
DEFAULT_BASH_ALLOW: tuple[str, ...] = (
    "cat", "cut", "diff", "find", "git", "grep", "head", "ls", "rg", "ruff", "sort", "stat", "tail", "uniq", "wc",
)  # fmt: skip


def _with_options(
    program: str,
    spec: Options,
    *,
    pattern_unless: tuple[str, ...] = (),
    more: Callable[[Parsed], str | None] | None = None,
) -> Check:
    """A rule reading `args` with `spec`: refused or unknown options refused, every file name resolved.

    `pattern_unless`: the first operand is a pattern, not a file, unless one of these options is given."""

    def check(args: list[str], workspace: Workspace) -> str | None:
        check_syntax(workspace, args)
        try:
            parsed = parse(program, spec, args)
        except OptionRefused as exc:
            return str(exc)
        problem = more(parsed) if more else None
        if problem:
            return problem
        operands = parsed.operands
        if pattern_unless and not parsed.given(*pattern_unless):
            operands = operands[1:]
        resolve_all(workspace, [*parsed.paths, *operands])
        return None

    return check


def _one_input(parsed: Parsed) -> str | None:
    if len(parsed.operands) > 1:
        return "uniq with a second file name writes its output there; give one input file only"
    return None


def _check_ruff(args: list[str], workspace: Workspace) -> str | None:
    check_syntax(workspace, args)
    if any(arg.startswith("@") for arg in args):
        return "ruff @FILE reads more arguments from a file, which are never checked; give them on the command line"
    if not args or (len(args) == 1 and args[0] in ("-V", "--version", "-h", "--help")):
        return None
    spec = programs.RUFF_SUBCOMMANDS.get(args[0])
    if spec is None:
        return f"ruff {args[0]} is not allowed; use one of: {', '.join(RUFF_SUBCOMMAND_NAMES)}"
    try:
        parsed = parse("ruff", spec, args[1:])
    except OptionRefused as exc:
        return str(exc)
    if args[0] == "format" and not parsed.given("--check", "--diff"):
        return "ruff format rewrites files; add --check or --diff to see what it would change"
    inline = [value for value in parsed.values_of("--config") if "=" in value or "\n" in value]
    if inline:
        return f"ruff --config {inline[0]!r}: inline settings are not allowed; name a config file in the repository"
    resolve_all(workspace, [*parsed.paths, *(parsed.operands if args[0] in ("check", "format") else [])])
    return None


def _ruff_no_fix(args: list[str]) -> list[str]:
    """`fix = true` in the project's config would make a plain `ruff check` rewrite files."""
    if args and args[0] == "check":
        return ["check", "--no-fix", *args[1:]]
    return args


def _check_find(args: list[str], workspace: Workspace) -> str | None:
    check_syntax(workspace, args)
    index, files = 0, []
    while index < len(args) and (args[index] in ("-P", "-H", "-L", "-D") or args[index][:2] == "-O"):
        if args[index] in programs.FIND_REFUSED:
            return f"find {args[index]} is not allowed: {programs.FIND_REFUSED[args[index]]}"
        index += 2 if args[index] == "-D" else 1
    while index < len(args) and not (args[index].startswith("-") or args[index] in ("(", ")", "!", ",")):
        files.append(args[index])
        index += 1
    while index < len(args):
        word = args[index]
        index += 1
        if word in programs.FIND_REFUSED:
            return f"find {word} is not allowed: {programs.FIND_REFUSED[word]}"
        if word in programs.FIND_FLAGS:
            continue
        newer = re.fullmatch(r"-newer[aBcm]([aBcmt])", word)
        if not (newer or word in programs.FIND_VALUES or word in programs.FIND_PATHS):
            return f"find {word} is not a primary this tool allows for find"
        if index >= len(args):
            return f"find {word} needs a value"
        if word in programs.FIND_PATHS or (newer and newer.group(1) != "t"):
            files.append(args[index])
        index += 1
    resolve_all(workspace, files)
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


def _diff_no_dereference(args: list[str]) -> list[str]:
    """`diff DIR1 DIR2` opens the files in both directories, following symlinks in them out of the worktree."""
    return ["--no-dereference", *args]


_PATTERN = ("-e", "--regexp", "-f", "--file")
READ_ONLY_RULES: dict[str, ProgramRule] = {
    "cat": ProgramRule(check=_with_options("cat", programs.CAT)),
    "cut": ProgramRule(check=_with_options("cut", programs.CUT)),
    "head": ProgramRule(check=_with_options("head", programs.HEAD)),
    "stat": ProgramRule(check=_with_options("stat", programs.STAT)),
    "tail": ProgramRule(check=_with_options("tail", programs.TAIL)),
    "wc": ProgramRule(check=_with_options("wc", programs.WC)),
    "ls": ProgramRule(check=_with_options("ls", programs.LS)),
    "diff": ProgramRule(check=_with_options("diff", programs.DIFF), extra=_diff_no_dereference),
    "grep": ProgramRule(check=_with_options("grep", programs.GREP, pattern_unless=_PATTERN), extra=_grep_excludes),
    "rg": ProgramRule(
        check=_with_options("rg", programs.RG, pattern_unless=(*_PATTERN, "--files", "--type-list")), extra=_rg_excludes
    ),
    "sort": ProgramRule(check=_with_options("sort", programs.SORT)),
    "uniq": ProgramRule(check=_with_options("uniq", programs.UNIQ, more=_one_input)),
    "find": ProgramRule(check=_check_find),
    "git": ProgramRule(check=check_git, extra=git_safety),
    "ruff": ProgramRule(check=_check_ruff, extra=_ruff_no_fix),
}
READ_ONLY_PROGRAMS: frozenset[str] = frozenset(READ_ONLY_RULES)


def option_problem(program: str, rule: ProgramRule, args: list[str]) -> str | None:
    """A refused option among `args` by the rule's plain deny-lists (`long`, `short`, `words`), or None."""
    for arg in args:
        if arg == "--":
            break
        if arg in rule.words:
            return f"{program} {arg} is not allowed"
        if arg.startswith("--"):
            name = arg[2:].split("=", 1)[0]
            if name and any(forbidden[2:].startswith(name) for forbidden in rule.long):
                return f"{program} {arg} is not allowed"
        elif arg.startswith("-") and len(arg) > 1 and rule.short:
            bad = sorted(set(arg[1:]) & set(rule.short))
            if bad:
                where = "" if arg == f"-{bad[0]}" else f" (in {arg})"
                return f"{program} -{bad[0]}{where} is not allowed"
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
