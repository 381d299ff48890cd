"""Running the GitHub CLI (`gh`) for autodev: found on PATH, an argument list (never a shell), bounded in time.

`gh` runs with the user's environment, on the user's behalf, outside any jail: it holds the user's
GitHub login (`GH_TOKEN`, or its own config), which nothing a run executed ever sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GH_TIMEOUT_S = 120
INSTALL_HINT = "install the GitHub CLI from https://cli.github.com and sign in with `gh auth login`"


class GhMissing(Exception):
    """`gh` is not on PATH."""


@dataclass(frozen=True)
class GhResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def problem(self) -> str:
        """The last line gh wrote about what went wrong (its messages end with the reason)."""
        lines = (self.stderr.strip() or self.stdout.strip() or f"exit {self.returncode}").splitlines()
        return lines[-1].strip()


def gh_available() -> bool:
    return shutil.which("gh") is not None


def run_gh(args: list[str], cwd: Path, *, timeout_s: float = GH_TIMEOUT_S) -> GhResult:
    """`gh ARGS` in `cwd` (gh finds the GitHub repository from its git remotes); `GhMissing` without gh."""
    binary = shutil.which("gh")
    if binary is None:
        raise GhMissing("gh")
    try:
        done = subprocess.run(
            [binary, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GH_PROMPT_DISABLED": "1", "NO_COLOR": "1"},  # never wait for an answer
            check=False,
        )
    except subprocess.TimeoutExpired:
        return GhResult(124, "", f"gh {args[0] if args else ''} timed out after {timeout_s:g}s")
    except OSError as exc:
        return GhResult(126, "", f"gh could not start: {exc}")
    return GhResult(done.returncode, done.stdout, done.stderr)
