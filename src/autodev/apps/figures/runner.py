"""Running a block's command the same way on every machine, and checking a command names a real one."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click

DATA_PLACEHOLDER = "../shared/data"
TIMEOUT_S = 1800


@dataclass(frozen=True)
class Outcome:
    ok: bool
    output: str
    seconds: float


def figures_env(config_home: Path) -> dict[str, str]:
    """The environment a command runs in: this interpreter's `autodev` first on PATH, no AUTODEV_*
    settings and an empty user config directory (a figure must not depend on whoever ran it), a fixed
    terminal width and no colour."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTODEV_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(XDG_CONFIG_HOME=str(config_home), COLUMNS="100", NO_COLOR="1", TERM="dumb", PYTHONHASHSEED="0")
    return env


def with_data(command: str, data: Path) -> str:
    """The command with the shared data directory where this checkout has it (`--data`)."""
    return command.replace(DATA_PLACEHOLDER, str(data))


def needs_missing_data(command: str, data: Path) -> bool:
    return DATA_PLACEHOLDER in command and not data.is_dir()


def _bash(command: str, root: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="autodev-figures-") as config_home:
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=root,
            env=figures_env(Path(config_home)),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )


@dataclass
class Runner:
    """Runs block commands; a command whose first part ran already (`autodev bench cost` and
    `autodev bench cost | grep ...`) reuses that output, so one regeneration runs each benchmark once."""

    root: Path
    data: Path
    heads: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def run(self, command: str) -> Outcome:
        started = datetime.now(UTC)
        head, _, tail = with_data(command, self.data).partition(" | ")
        if head not in self.heads:
            self.heads[head] = _bash(head, self.root)
        done = self.heads[head]
        if done.returncode == 0 and tail:
            done = _bash(tail, self.root, stdin=done.stdout)
        seconds = (datetime.now(UTC) - started).total_seconds()
        if done.returncode != 0:
            return Outcome(False, f"exit {done.returncode}: {done.stderr.strip()[-2000:]}", seconds)
        # the data directory as the block names it, wherever this checkout has it
        return Outcome(True, done.stdout.replace(str(self.data), DATA_PLACEHOLDER), seconds)


def stamp_line() -> str:
    """`Measured DATE on MACHINE`: what a machine-dependent figure needs beside it to mean anything."""
    cpus = os.cpu_count() or 0
    date = datetime.now(UTC).date().isoformat()
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return (
        f"Measured {date} on {platform.system()} {platform.machine()}, {cpus} CPUs{load}, "
        f"Python {platform.python_version()} (`python -m autodev.apps.figures` measures again)."
    )


def command_problem(command: str) -> str | None:
    """Why the block's command is not a real `autodev` command (None when it is).

    Only the first command of a pipeline is checked, and only an `autodev ...` one: the subcommand
    names are walked through the click groups and must end at a command, not a group.
    """
    from autodev.apps.cli.main import cli

    first = command.split("|", 1)[0]
    try:
        words = shlex.split(first)
    except ValueError as error:
        return f"cannot parse {first!r}: {error}"
    if not words or words[0] != "autodev":
        return None if words else "empty command"
    current: click.Command = cli
    path = ["autodev"]
    rest = words[1:]
    while rest and isinstance(current, click.Group) and not rest[0].startswith("-"):
        if rest[0] not in current.commands and type(current).parse_args is not click.Group.parse_args:
            return None  # a group with a default command: `autodev eval SUITE` is `autodev eval run SUITE`
        word, rest = rest[0], rest[1:]
        sub = current.commands.get(word)
        if sub is None:
            return f"`{' '.join(path)}` has no command {word!r}"
        current, path = sub, [*path, word]
    if isinstance(current, click.Group):
        return f"`{' '.join(path)}` is a group, not a command"
    return None
