"""What agents' Bash `git` may do: read-only subcommands over the run's own work, nothing else.

The rule for what git may read: **the worktree and HEAD's history**. An agent works on its run's branch,
which starts at the user's HEAD, so HEAD and its ancestors are all the history the run is about. The
object store and refs it shares with the user's checkout (stash, other branches, remotes, reflogs, notes)
are the user's, not the run's. So a revision an agent names must be:

- `HEAD` (or `@`), or a hexadecimal commit id that git confirms is an ancestor of HEAD
  (`git merge-base --is-ancestor`), with the navigation suffixes `~N`, `^N`, `^{commit}`, `^{/text}`,
  `^!`, `^@`, `^-N`, an optional `:path` inside it, a `^` in front, or two of them as `A..B`/`A...B`;
- or `:path` / `:N:path` (the worktree's own index).

Refused: ref names (`main`, `stash`, `refs/stash`, `origin/x`, tags), reflog syntax (`@{...}`),
`:/text` (searches every ref), and the options that walk other refs (`--all`, `--branches`, `--tags`,
`--remotes`, `--glob`, `--reflog`, `-g`/`--walk-reflogs`, `--alternate-refs`, `--bisect`, `--stdin`)
or list objects (`rev-parse --disambiguate`). Also refused: options that write (`--output`), run programs
(`--ext-diff`, `--textconv`, `--open-files-in-pager`/`-O`, `--show-signature`) or read a file git never
checks (`blame -S REVS-FILE`, `-O ORDERFILE`); `git grep --no-index`, and `git diff --no-index` on
directories (they would walk into `.git/`). Option values that name files (`blame --contents`,
`ls-files --exclude-from`, `grep -f`) are resolved through the `Workspace`. diff, log and show run with
`--no-ext-diff --no-textconv` (log and show `--no-notes` too), blame and grep with `--no-textconv`,
whatever the repository's config says.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from autodev.core.errors import AutodevError
from autodev.core.gitops import git
from autodev.sandbox.workspace import Workspace
from autodev.tools.bash_options import words
from autodev.tools.bash_paths import check_syntax

GIT_READ_ONLY = ("status", "diff", "log", "show", "ls-files", "grep", "blame", "rev-parse")
_OTHER_REFS = "it reads refs other than HEAD (the user's stash, branches or reflog)"
GIT_REFUSED: dict[str, str] = {
    "--output": "it writes files",
    "--open-files-in-pager": "it runs a program",
    "-O": "it runs a program or reads an unchecked file",
    "--ext-diff": "it runs a program",
    "--textconv": "it runs a program",
    "--show-signature": "it runs a program",
    "--exec-path": "it runs programs",
    "--git-dir": "it reads another repository",
    "--work-tree": "it reads another directory",
    "--resolve-git-dir": "it reads another repository",
    "--disambiguate": "it lists objects that are not the run's",
    **{f"--{name}": _OTHER_REFS for name in words("all branches tags remotes glob reflog walk-reflogs alternate-refs")},
    **{f"--{name}": _OTHER_REFS for name in words("bisect stdin exclude-hidden notes show-notes")},
    "-g": _OTHER_REFS,
}


# Options that are whole options of their own although they begin a refused one's name (`--text` is
# not an abbreviation of `--textconv`).
_PREFIX_BUT_ALLOWED = frozenset({"text"})


@dataclass(frozen=True)
class GitCommand:
    """How one read-only subcommand reads its arguments."""

    values: str = ""  # short options whose value follows (glued or as the next word)
    long_values: frozenset[str] = frozenset()
    paths: str = ""  # short options whose value names a file
    long_paths: frozenset[str] = frozenset()
    long_revisions: frozenset[str] = frozenset()  # long options whose value is a revision
    operands: str = "revisions"  # "revisions" (or paths), "paths", "pattern" (a pattern, then revisions)
    refused: tuple[str, ...] = ()  # refused here beyond GIT_REFUSED
    safety: tuple[str, ...] = ()  # arguments put right after the subcommand


_LOG_VALUES = words(
    "max-count skip since after until before author committer grep min-age max-age exclude diff-filter "
    "src-prefix dst-prefix line-prefix anchored find-object word-diff-regex ignore-matching-lines "
    "inter-hunk-context output-indicator-new output-indicator-old output-indicator-context rotate-to skip-to "
    "color-moved-ws"
)
_NO_PROGRAMS = ("--no-ext-diff", "--no-textconv")
# Only options git reads a separate value for (checked against git 2.39): `-U`/`--unified` take theirs
# glued only, so in `git log -U stash` the `stash` is a revision, and diff has no `-L`.
_LOG = GitCommand(
    values="nSGLlI", long_values=_LOG_VALUES, safety=(*_NO_PROGRAMS, "--no-notes")
)  # refs/notes: the user's
GIT_COMMANDS: dict[str, GitCommand] = {
    "status": GitCommand(operands="paths"),
    "ls-files": GitCommand(
        values="x",
        paths="X",
        long_values=frozenset({"exclude", "exclude-per-directory", "format"}),
        long_paths=frozenset({"exclude-from"}),
        long_revisions=frozenset({"with-tree"}),
        operands="paths",
    ),
    "diff": GitCommand(values="nSGlI", long_values=_LOG_VALUES, safety=_NO_PROGRAMS),
    "log": _LOG,
    "show": _LOG,
    "blame": GitCommand(
        values="L",
        long_values=frozenset({"date"}),
        long_paths=frozenset({"contents", "ignore-revs-file"}),
        long_revisions=frozenset({"ignore-rev"}),
        refused=("-S",),
        safety=("--no-textconv",),
    ),
    "grep": GitCommand(
        values="emABC",
        paths="f",
        long_values=frozenset({"regexp", "max-count", "max-depth", "threads", "before-context", "after-context"}),
        long_paths=frozenset({"file"}),
        operands="pattern",
        refused=("--no-index",),
        safety=("--no-textconv",),
    ),
    "rev-parse": GitCommand(long_revisions=frozenset({"default"}), long_values=frozenset({"prefix"})),
}
_SPECIFIC_WHY = {
    "-S": "it reads revisions from a file that is never checked",
    "--no-index": "it reads files git does not track",
}

_SUFFIX = r"(?:~\d*|\^\d*|\^\{(?:commit|tree|object|tag|)\}|\^\{/[^}]*\}|\^!|\^@|\^-\d*)"
_BASE = r"(?P<base>HEAD|@|[0-9a-fA-F]{4,64})"
_REVISION = re.compile(rf"\^?{_BASE}{_SUFFIX}*(?::.*)?", re.DOTALL)
_RANGE = re.compile(r"(?P<left>.*?)\.\.\.?(?P<right>.*)", re.DOTALL)
_INDEX_PATH = re.compile(r":(?:[0-3]:)?(?![/!]).*", re.DOTALL)
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")


@dataclass
class GitArguments:
    """The words of one git command line sorted by what they are."""

    subcommand: str
    options: list[str]
    revisions: list[str]  # option values that are revisions
    paths: list[str]  # option values and operands that name files
    maybe_revisions: list[str]  # operands before `--` (a revision, or else a file)
    no_index: bool = False


def refused_option(arg: str, command: GitCommand) -> str | None:
    """The refused option `arg` is (abbreviations and short clusters included), or None."""
    names = (*GIT_REFUSED, *command.refused)
    if arg.startswith("--"):
        name = arg[2:].split("=", 1)[0]
        if not name or name in _PREFIX_BUT_ALLOWED:
            return None
        return next((bad for bad in names if bad.startswith("--") and bad[2:].startswith(name)), None)
    for letter in arg[1:]:
        if f"-{letter}" in names:
            return f"-{letter}"
        if letter.isdigit() or letter in command.values or letter in command.paths:
            return None  # the rest of the word is this option's value
    return None


def read_git_arguments(args: list[str]) -> GitArguments | str:
    """Sort `git SUBCOMMAND ...` into options, revisions and paths; a string says why it is refused."""
    allowed = ", ".join(GIT_READ_ONLY)
    if not args:
        return f"git needs a subcommand; allowed: {allowed}"
    if args[0].startswith("-"):
        return (
            "git options before the subcommand (-c, -C, -p, --git-dir, --work-tree, --exec-path, ...) are not "
            f"allowed; start with the subcommand ({allowed})"
        )
    if args[0] not in GIT_COMMANDS:
        return f"git {args[0]} is not allowed: only the read-only subcommands {allowed} may run"
    command = GIT_COMMANDS[args[0]]
    out = GitArguments(args[0], [], [], [], [])
    pattern_needed = command.operands == "pattern"
    index, ended = 1, False
    while index < len(args):
        arg = args[index]
        index += 1
        if ended or arg == "-" or not arg.startswith("-"):
            if pattern_needed and not ended:
                pattern_needed = False
            elif ended or command.operands == "paths":
                out.paths.append(arg)
            else:
                out.maybe_revisions.append(arg)
            continue
        if arg == "--":
            ended = True
            continue
        refused = refused_option(arg, command)
        if refused:
            why = _SPECIFIC_WHY.get(refused) or GIT_REFUSED.get(refused, "it is not allowed")
            shown = arg if arg.startswith("--") else refused + ("" if arg == refused else f" (in {arg})")
            return f"git {shown} is not allowed: {why}"
        out.options.append(arg)
        if arg == "--no-index":
            out.no_index = True
        option, value, index = _option_value(command, arg, args, index)
        if value is None:
            continue
        if option in ("-e", "--regexp", "-f", "--file"):
            pattern_needed = False
        if option[2:] in command.long_revisions:
            out.revisions.append(value)
        elif option[2:] in command.long_paths or (len(option) == 2 and option[1] in command.paths):
            out.paths.append(value)
    return out


def _option_value(command: GitCommand, arg: str, args: list[str], index: int) -> tuple[str, str | None, int]:
    """The option that takes a value in `arg` (`-f` in `-nfLIST`, `--file`), the value (glued, or the next
    word when the option takes one; None when it takes none) and where the next word is."""
    if arg.startswith("--"):
        name, glued, value = arg[2:].partition("=")
        takes = name in command.long_values | command.long_paths | command.long_revisions
        if glued:
            return f"--{name}", (value if takes else None), index
        if takes and index < len(args):
            return f"--{name}", args[index], index + 1
        return f"--{name}", None, index
    for position in range(1, len(arg)):
        letter = arg[position]
        if letter.isdigit():
            break
        if letter in command.values or letter in command.paths:
            glued_value = arg[position + 1 :]
            if glued_value:
                return f"-{letter}", glued_value, index
            if index < len(args):
                return f"-{letter}", args[index], index + 1
            break
    return arg, None, index


def revision_problem(text: str, workspace: Workspace) -> str | None:
    """Why `text` is not a revision an agent may read (see the module's rule), or None."""
    if "@{" in text:
        return f"{text!r}: reflog revisions (@{{...}}) are not the run's work; use HEAD~N or a commit id from git log"
    ranged = _RANGE.fullmatch(text) if ".." in text and ":" not in text.split("..", 1)[0] else None
    sides = [side for side in (ranged.group("left"), ranged.group("right")) if side] if ranged else [text]
    for side in sides:
        if _INDEX_PATH.fullmatch(side) and not ranged:
            continue
        match = _REVISION.fullmatch(side)
        if match is None:
            return (
                f"{text!r} is not a revision agents may read: only HEAD, its ancestors (HEAD~N, HEAD^) and "
                "commit ids in HEAD's history (from git log); other branches, tags, the stash and reflogs are "
                "the user's. A file name that does not exist goes after --"
            )
        base = match.group("base")
        if _HEX.fullmatch(base) and not _is_ancestor(base, workspace):
            return f"{base!r} is not a commit in HEAD's history; git may read only HEAD and its ancestors"
    return None


def _is_ancestor(commit: str, workspace: Workspace) -> bool:
    """True when `commit` names exactly one object, a commit that HEAD descends from.

    Unique among *all* objects (no commit-ish hint), so that git, reading the same prefix, cannot pick
    another object or list the candidates (their ids and subjects) of an ambiguous one."""
    try:
        named = git(["rev-parse", "--verify", "--quiet", commit], workspace.root, check=False)
        full = named.stdout.strip()
        if named.returncode != 0 or not _HEX.fullmatch(full):
            return False
        result = git(["merge-base", "--is-ancestor", full, "HEAD"], workspace.root, check=False)
    except AutodevError:  # git missing or hung: refuse rather than end the run
        return False
    return result.returncode == 0


def check_git(args: list[str], workspace: Workspace) -> str | None:
    """Refuse what `git ARGS` may not read; resolve the files it names through the workspace."""
    read = read_git_arguments(args)
    if isinstance(read, str):
        return read
    check_syntax(workspace, args)
    for value in read.revisions:
        problem = revision_problem(value, workspace)
        if problem:
            return problem
    for operand in read.maybe_revisions:
        if read.no_index or _names_a_file(operand, workspace):
            read.paths.append(operand)
            continue
        problem = revision_problem(operand, workspace)
        if problem:
            return problem
    for path in read.paths:
        if path != "-" and not path.startswith(":("):
            resolved = workspace.resolve(path)
            if read.no_index and resolved.is_dir():
                return f"git diff --no-index {path!r}: compare files here, not directories (they would include .git/)"
    return None


def _names_a_file(operand: str, workspace: Workspace) -> bool:
    if "\x00" in operand or os.path.isabs(operand):
        return False
    return os.path.lexists(workspace.root / operand)


def git_safety(args: list[str]) -> list[str]:
    """`args` with the subcommand's safety flags right after it (before the model's own options)."""
    command = GIT_COMMANDS.get(args[0]) if args else None
    if command is None or not command.safety:
        return args
    return [args[0], *command.safety, *args[1:]]
