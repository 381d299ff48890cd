"""The Bash tool: one allow-listed program, run from an argument vector, never through a shell.

A command given as a string is split with `shlex.split` and the words go straight to `exec`, so `;`,
`|`, `&&`, `>`, `$(...)`, backticks, `*` and `$VAR` are plain arguments: `cat "a; rm -rf /"` reads a
file literally named that. The program (argv[0]) must be on the allow-list (config `bash_allow`; the
defaults are read-only inspection tools). Each default program has rules for its dangerous options:
git runs only read-only subcommands, find may not `-exec` or `-delete`, nothing may follow symlinks
out of the worktree, sort and ruff may not write files. Whatever the program, an argument that is an
absolute path or has `..` as a component is refused, and an argument that names an existing file (or
contains a `/`) is resolved through the `Workspace`, so symlinks out and `.git/` are refused too.

The command runs in the worktree root with the API keys scrubbed from its environment, in its own
process group that is killed whole on timeout, and its output (stdout and stderr together) is read
incrementally: past the cap only a running tail is kept, so a command printing gigabytes costs
kilobytes. A refused command is an error result for the model, never an exception for the run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process

from autodev.core.process import scrubbed_environment
from autodev.models import ToolDefinition
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext

DEFAULT_TIMEOUT_S = 60.0
BASH_OUTPUT_CAP = 20_000  # bytes of output kept: the first two thirds and the last third
BASH_CAP_HINT = (
    "narrow the command (grep for what you need, head -n/tail -n, a narrower path), or Read the file with offset/limit"
)

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


def _option_problem(program: str, rule: ProgramRule, args: list[str]) -> str | None:
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


def _check_paths(workspace: Workspace, args: list[str]) -> None:
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


def tool_environment(root: Path) -> dict[str, str]:
    """What a program started by a tool sees: no API keys, no git redirection, no pager, no PATH into the repo."""
    env = {k: v for k, v in scrubbed_environment().items() if not k.startswith("GIT_")}
    for key in ("RIPGREP_CONFIG_PATH", "POSIXLY_CORRECT", "GREP_OPTIONS", "BASH_ENV", "ENV"):
        env.pop(key, None)
    root_text = str(root)
    safe = [
        entry
        for entry in env.get("PATH", os.defpath).split(os.pathsep)
        if entry and os.path.isabs(entry) and not (entry + os.sep).startswith(root_text + os.sep)
    ]
    env["PATH"] = os.pathsep.join(safe) or os.defpath
    env.update(
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",  # `git status` must not rewrite the index
        GIT_TERMINAL_PROMPT="0",
        RUFF_NO_CACHE="true",
        NO_COLOR="1",
    )
    return env


# --- running ------------------------------------------------------------------------------------------


class CappedOutput:
    """Keeps the first two thirds and a running last third of a byte stream, and counts the rest."""

    def __init__(self, cap: int = BASH_OUTPUT_CAP) -> None:
        self.head_cap, self.tail_cap = cap * 2 // 3, cap - cap * 2 // 3
        self.head, self.tail = bytearray(), bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def text(self, hint: str = BASH_CAP_HINT) -> str:
        head, tail = bytes(self.head), bytes(self.tail)
        if self.total <= len(head) + len(tail):
            return (head + tail).decode("utf-8", errors="replace")
        cut = head.rfind(b"\n")  # whole lines on both sides of the marker when a line ends nearby
        if cut >= len(head) // 2:
            head = head[: cut + 1]
        cut = tail.find(b"\n")
        if 0 <= cut < len(tail) // 2:
            tail = tail[cut + 1 :]
        omitted = self.total - len(head) - len(tail)
        return (
            head.decode("utf-8", errors="replace")
            + ("" if head.endswith(b"\n") else "\n")
            + f"[... {omitted} bytes of output omitted (of {self.total}); {hint} ...]\n"
            + tail.decode("utf-8", errors="replace")
        )


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None
    output: str
    timed_out: bool
    total_bytes: int


def _kill_group(process: Process) -> None:
    if sys.platform != "win32":
        try:
            os.killpg(process.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def run_command(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout_s: float, cap: int = BASH_OUTPUT_CAP
) -> CommandResult:
    """Run `argv` (no shell) in its own process group; kill the whole group on timeout or cancellation."""
    process = await anyio.open_process(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = CappedOutput(cap)
    finished = False
    try:
        with anyio.move_on_after(timeout_s):
            assert process.stdout is not None
            async for chunk in process.stdout:
                output.feed(chunk)
            await process.wait()
            finished = True
    finally:
        if not finished or process.returncode is None:
            _kill_group(process)
        with anyio.CancelScope(shield=True):
            await process.aclose()
    return CommandResult(process.returncode if finished else None, output.text(), not finished, output.total)


# --- the tool -----------------------------------------------------------------------------------------

Pattern = tuple[tuple[str, ...], bool]  # (words, prefix?) from Claude Code's `Bash(git diff:*)`


class Bash:
    """The tool. One instance per allow-list; `patterns` narrows it further for one agent."""

    def __init__(
        self,
        allow: Iterable[str] = DEFAULT_BASH_ALLOW,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        patterns: tuple[Pattern, ...] | None = None,
        output_cap: int = BASH_OUTPUT_CAP,
    ) -> None:
        self.allow = tuple(dict.fromkeys(allow))
        self.timeout_s = timeout_s
        self.patterns = patterns
        self.output_cap = output_cap
        self.definition = ToolDefinition("Bash", self._description(), self._schema())

    @property
    def can_write(self) -> bool:
        """True when a program on the allow-list has no read-only rules here (an interpreter, say)."""
        return any(program not in READ_ONLY_PROGRAMS for program in self.allow)

    def _patterns_text(self) -> str:
        return ", ".join(" ".join(words) + (" ..." if prefix else "") for words, prefix in self.patterns or ())

    def _description(self) -> str:
        only = f" For this agent only these commands: {self._patterns_text()}." if self.patterns is not None else ""
        return (
            "Run one program with arguments in the repository root and return its exit code and output. "
            "There is no shell: the command is split into words like a shell would, but pipes, redirection, "
            "';', '&&', '$(...)', '*' globs and $VARIABLES are passed as plain arguments. "
            f"Allowed programs: {', '.join(self.allow)}. git runs only {', '.join(GIT_READ_ONLY)}. "
            "Paths must be relative and inside the repository; .git/ and .autodev/ are off limits. "
            f"Times out after {self.timeout_s:g}s. Prefer Read, Grep and Glob for reading and searching files." + only
        )

    @staticmethod
    def _schema() -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "command": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                    "description": 'e.g. "git log --oneline -5" or ["git", "log", "--oneline", "-5"]',
                },
                "timeout_s": {"type": "number", "description": "seconds before the command is killed"},
            },
            "required": ["command"],
            "additionalProperties": False,
        }

    def check(self, argv: list[str], workspace: Workspace) -> list[str]:
        """The argument vector to run, or a refusal (recorded in the workspace) explaining why not."""
        program, args = argv[0], argv[1:]
        if program not in self.allow:
            if "/" in program or "\\" in program:
                raise workspace.refuse(f"{program!r}: give a program name from the allow-list, not a path")
            raise workspace.refuse(
                f"{program!r} is not on the allow-list; allowed: {', '.join(self.allow)}. "
                "Use Read, Grep and Glob for files."
            )
        if self.patterns is not None and not any(
            tuple(argv[: len(words)]) == words if prefix else tuple(argv) == words for words, prefix in self.patterns
        ):
            raise workspace.refuse(f"this agent may run only these commands: {self._patterns_text()}")
        rule = READ_ONLY_RULES.get(program)
        if rule is not None:
            problem = (rule.check(args) if rule.check else None) or _option_problem(program, rule, args)
            if problem:
                raise workspace.refuse(problem)
        _check_paths(workspace, args)
        if rule is not None and rule.extra is not None:
            args = rule.extra(args)
        return [program, *args]

    def _timeout(self, args: Mapping[str, Any]) -> float:
        value = args.get("timeout_s")
        if value is None:
            return self.timeout_s
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ToolError("argument 'timeout_s' must be a positive number of seconds")
        return min(float(value), self.timeout_s)

    async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        workspace = ctx.workspace
        argv = self.check(split_command(args.get("command")), workspace)
        timeout_s = self._timeout(args)
        env = tool_environment(workspace.root)
        if shutil.which(argv[0], path=env["PATH"]) is None:  # the child looks it up in the same PATH
            raise ToolError(f"{argv[0]!r} is allowed but not installed on this machine")
        try:
            result = await run_command(argv, workspace.root, env, timeout_s, self.output_cap)
        except OSError as exc:
            raise ToolError(f"could not start {argv[0]!r}: {exc.strerror or exc}") from None
        if result.timed_out:
            raise ToolError(
                f"timed out after {timeout_s:g}s; the command and every process it started were killed. "
                f"Output so far:\n{result.output or '(none)'}"
            )
        return f"exit {result.exit_code}\n{result.output or '(no output)'}"
