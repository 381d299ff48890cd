"""The Bash tool: one allow-listed program, run from an argument vector, never through a shell.

A command given as a string is split with `shlex.split` and the words go straight to `exec`, so `;`,
`|`, `&&`, `>`, `$(...)`, backticks, `*` and `$VAR` are plain arguments: `cat "a; rm -rf /"` reads a
file literally named that. The program (argv[0]) must be on the allow-list (config `bash_allow`; the
defaults are read-only inspection tools). Each default program has rules for its dangerous options:
git runs only read-only subcommands, find may not `-exec` or `-delete`, nothing may follow symlinks
out of the worktree, sort and ruff may not write files. Whatever the program, an argument that is an
absolute path or has `..` as a component is refused, and an argument that names an existing file (or
contains a `/`) is resolved through the `Workspace`, so symlinks out and `.git/` are refused too
(the rules are in `autodev.tools.bash_rules`).

The command runs in the worktree root with the API keys scrubbed from its environment, in its own
process group that is killed whole on timeout (`autodev.core.process`), and its output (stdout and
stderr together) is read incrementally: past the cap only a running tail is kept, so a command
printing gigabytes costs kilobytes. A refused command is an error result for the model, never an exception for the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.core.process import Command, HeadTail, run_process
from autodev.core.tool_git import tool_git_environment
from autodev.models import ToolDefinition
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext
from autodev.tools.bash_rules import DEFAULT_BASH_ALLOW as DEFAULT_BASH_ALLOW
from autodev.tools.bash_rules import GIT_READ_ONLY, READ_ONLY_PROGRAMS, READ_ONLY_RULES, check_paths, option_problem
from autodev.tools.bash_rules import split_command as split_command

DEFAULT_TIMEOUT_S = 60.0
BASH_OUTPUT_CAP = 20_000  # bytes of output kept: the first two thirds and the last third
BASH_CAP_HINT = (
    "narrow the command (grep for what you need, head -n/tail -n, a narrower path), or Read the file with offset/limit"
)


# --- the environment and running ----------------------------------------------------------------------


def tool_environment(root: Path) -> dict[str, str]:
    """What autodev sets for a program a tool starts, on top of the jail's allow-listed environment:
    no pager, no optional git locks, no colour, no ruff cache, and a PATH with nothing inside the repo."""
    root_text = str(root)
    safe = [
        entry
        for entry in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if entry and os.path.isabs(entry) and not (entry + os.sep).startswith(root_text + os.sep)
    ]
    env = dict(
        PATH=os.pathsep.join(safe) or os.defpath,
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",  # `git status` must not rewrite the index
        GIT_TERMINAL_PROMPT="0",
        RUFF_NO_CACHE="true",
        NO_COLOR="1",
    )
    env.update(tool_git_environment(root))  # git's config pinned: no fsmonitor, hooks, textconv, fetch...
    return env


class CappedOutput(HeadTail):
    """Keeps the first two thirds and a running last third of a byte stream, and counts the rest."""

    def __init__(self, cap: int = BASH_OUTPUT_CAP) -> None:
        super().__init__(cap * 2 // 3, cap - cap * 2 // 3)

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


async def run_command(command: Command, timeout_s: float, cap: int = BASH_OUTPUT_CAP) -> CommandResult:
    """Run `command` (no shell) in its own process group; kill the whole group on timeout or cancellation."""
    output = CappedOutput(cap)
    finished = await run_process(command, timeout_s, output)
    return CommandResult(finished.exit_code, output.text(), finished.timed_out, output.total)


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
            problem = (rule.check(args, workspace) if rule.check else None) or option_problem(program, rule, args)
            if problem:
                raise workspace.refuse(problem)
        check_paths(workspace, args)
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
        own = tool_environment(workspace.root)
        if shutil.which(argv[0], path=own["PATH"]) is None:  # the child looks it up in the same PATH
            raise ToolError(f"{argv[0]!r} is allowed but not installed on this machine")
        command = ctx.confinement().command(argv, workspace.root, own)
        try:
            result = await run_command(command, timeout_s, self.output_cap)
        except OSError as exc:
            raise ToolError(f"could not start {argv[0]!r}: {exc.strerror or exc}") from None
        if result.timed_out:
            raise ToolError(
                f"timed out after {timeout_s:g}s; the command and every process it started were killed. "
                f"Output so far:\n{result.output or '(none)'}"
            )
        return f"exit {result.exit_code}\n{result.output or '(no output)'}"
