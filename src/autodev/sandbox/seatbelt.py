"""The macOS jail: `sandbox-exec` with a profile written for one program (not exercised in CI).

macOS has no mount namespaces, so nothing can be *hidden behind* an empty directory: reads of the
user's home and checkout are denied instead, and HOME and TMPDIR point at a private directory the
caller makes. The profile allows by default and then denies (a later rule wins, as in Bazel's
macOS sandbox): every write but the worktree, the private directory and the caller's scratch
directories; every read under the hidden paths but the readable ones; and the network, unless asked.
There is no PID namespace: a daemon that leaves the process group outlives the step here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SANDBOX_EXEC = "/usr/bin/sandbox-exec"


def _quoted(path: Path) -> str:
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _subpaths(paths: Sequence[Path]) -> str:
    return " ".join(f"(subpath {_quoted(path)})" for path in paths)


def profile(*, writable: Sequence[Path], readable: Sequence[Path], hidden: Sequence[Path], network: bool) -> str:
    """The SBPL profile: deny writes but to `writable`, deny reads under `hidden` but `readable` and
    `writable`, deny the network unless `network`."""
    lines = ["(version 1)", "(allow default)"]
    if not network:
        lines += ["(deny network*)"]
    lines += [
        "(deny file-write*)",
        f'(allow file-write* {_subpaths(writable)} (literal "/dev/null") (literal "/dev/tty") (subpath "/dev/fd"))',
    ]
    if hidden:
        lines += [f"(deny file-read* {_subpaths(hidden)})"]
        lines += [f"(allow file-read* {_subpaths([*readable, *writable])})"] if readable or writable else []
    return "\n".join(lines) + "\n"


def arguments(
    *, writable: Sequence[Path], readable: Sequence[Path], hidden: Sequence[Path], network: bool
) -> list[str]:
    """`sandbox-exec -p PROFILE`: append the program and its arguments."""
    text = profile(writable=writable, readable=readable, hidden=hidden, network=network)
    return [SANDBOX_EXEC, "-p", text]
