"""The bubblewrap command line for one jailed program (`bwrap ... --`), built from a list of mounts.

The order of mounts matters: a later mount covers an earlier one at the same place or above it. So
the whole system goes first, read-only; then every mount sorted by depth, shallower first, and at the
same depth hidden before read-only before writable. A read-only `.git` inside a hidden checkout, a
writable worktree inside it, and a read-only interpreter inside a hidden home all come out right.

Namespaces: all of them (`--unshare-all`: user, IPC, PID, UTS, cgroup and network), the network
given back only when asked. In a new PID namespace the kernel kills every process in it when its
first process ends, so a test's double-forked daemon ends with the test; `--die-with-parent` ends the
jail when autodev does, even by SIGKILL.

No `--new-session`: its `setsid()` takes the namespace's first process out of the program's process
group, and then only `--die-with-parent` ends it, which races with a jail stopped just after it
started (bubblewrap #633): that first process outlived its run holding the output pipe. Without it,
stopping the group (`core.process`) reaches the namespace's first process, and the kernel ends the
rest. Keystrokes can't be pushed into autodev's terminal anyway (TIOCSTI): every jailed program is
started in a session of its own (`run_process`), with no controlling terminal and stdin from /dev/null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_ORDER = {"hidden": 0, "readable": 1, "writable": 2}
_FLAG = {"hidden": "--tmpfs", "readable": "--ro-bind", "writable": "--bind"}


@dataclass(frozen=True)
class Mounts:
    """Paths (the same inside as outside) that are writable, readable, or hidden behind an empty tmpfs."""

    writable: Sequence[Path] = ()
    readable: Sequence[Path] = ()
    hidden: Sequence[Path] = ()

    def ordered(self) -> list[tuple[str, Path]]:
        """(kind, path) in the order bubblewrap must mount them; missing paths are left out."""
        chosen: dict[Path, str] = {}
        for kind, paths in (("hidden", self.hidden), ("readable", self.readable), ("writable", self.writable)):
            for path in paths:
                path = Path(path).absolute()
                if path == Path("/") or not (path.exists() or (kind == "hidden" and path.parent.is_dir())):
                    continue
                if kind == "hidden" and not path.is_dir():
                    continue
                chosen[path] = kind  # a path named twice takes its widest kind (writable over readable over hidden)
        return sorted(((kind, path) for path, kind in chosen.items()), key=lambda m: (len(m[1].parts), _ORDER[m[0]]))


def arguments(mounts: Mounts, *, network: bool, cwd: Path, binary: str = "bwrap") -> list[str]:
    """`bwrap` and its options, ending in `--`: append the program and its arguments."""
    argv = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for kind, path in mounts.ordered():
        if kind == "hidden":
            argv += [_FLAG[kind], str(path)]
        else:
            argv += [_FLAG[kind], str(path), str(path)]
    argv += ["--unshare-all"]
    if network:
        argv += ["--share-net"]
    argv += ["--die-with-parent", "--chdir", str(cwd), "--"]
    return argv
