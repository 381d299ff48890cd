"""The jail executed code runs in: the project's tests (the gate and RunTests), Bash and the analysers.

Code a model wrote is run by autodev; it must not act with the user's power. On Linux the jail is
bubblewrap (`autodev.sandbox.bubblewrap`): the system read-only, the run's worktree writable, a
private `/tmp` and an empty private `HOME`, the user's checkout hidden but for its `.git` (read-only,
for git in the worktree), no network unless `[sandbox] network = true`, and a PID namespace that
dies with the step, so nothing it started outlives it.

Whatever the jail, the environment is built from an allow-list (`JAIL_ENV_NAMES`, the `LC_*`
variables, the names in `[sandbox] env`) plus what autodev itself sets for the program: provider
keys, tokens, cloud credentials and agent sockets never reach executed code, whatever they are called.

`mode = "auto"` uses bubblewrap where it works; where it does not, `jail_for` refuses (a `UserError`)
and project code is not run. `mode = "off"` runs it unconfined, with the environment still filtered;
the run warns about it every time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from autodev.core.errors import UserError
from autodev.core.process import Command
from autodev.core.secret_scan import harmless_name, register_secret
from autodev.sandbox import bubblewrap, seatbelt

JailKind = Literal["bubblewrap", "sandbox-exec", "none"]
JAIL_ENV_NAMES = frozenset(
    (
        "PATH", "LANG", "LANGUAGE", "TERM", "TZ", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "SOURCE_DATE_EPOCH",
        "USER", "LOGNAME",
    )
)  # fmt: skip
JAIL_ENV_PREFIXES = ("LC_",)
# Toolchains that live under HOME and hold no credentials: bound read-only, so a pyenv shim, a
# uv-managed Python or a rustup toolchain works in the jail (`~/.cargo/credentials.toml` stays hidden).
TOOLCHAIN_DIRS = (
    ".pyenv", ".local/share/uv/python", ".local/pipx", ".rustup", ".cargo/bin", ".cargo/registry", ".nvm", ".volta",
    ".asdf", "go/pkg/mod",
)  # fmt: skip
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap), "
    'or set sandbox = "off" in your user config (or pass --sandbox off) to run it unconfined'
)


@dataclass(frozen=True)
class SandboxPolicy:
    """What the user asked for (`[sandbox]`): the mode, the network, and variables to pass on."""

    mode: Literal["auto", "bubblewrap", "off"] = "auto"
    network: bool = False
    env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Jail:
    """How one run's executed code is confined: `command` turns what to run into what is started.

    `worktree` is the one place it may write (besides a private `/tmp` and `HOME`, and the scratch
    directories a caller names); `readable` are bound read-only inside what `hidden` covers (the
    interpreter, the checkout's `.git`); `hidden` are replaced by empty directories (the user's
    home, the checkout itself, agent sockets).
    """

    kind: JailKind
    policy: SandboxPolicy
    worktree: Path
    readable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    home: Path = field(default_factory=Path.home)
    worktree_writable: bool = True  # False: a run without a worktree reads the repository, writes nothing

    def environment(self, own: Mapping[str, str]) -> dict[str, str]:
        """`allowed_environment` for this jail: inside bubblewrap, HOME and TMPDIR are the private ones."""
        env = allowed_environment(own, self.policy.env)
        if self.kind == "bubblewrap":
            env.update(HOME=str(self.home), TMPDIR="/tmp")
        elif self.kind == "sandbox-exec":
            private = self.private_dir()
            env.update(HOME=str(private), TMPDIR=str(private))
        return env

    def private_dir(self) -> Path:
        """macOS: the private HOME and TMPDIR (no mount namespaces there), one per worktree, made on demand."""
        digest = hashlib.sha256(str(self.worktree).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"autodev-jail-{os.getuid()}-{digest}"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def command(
        self,
        argv: Sequence[str],
        cwd: Path,
        own_env: Mapping[str, str] | None = None,
        writable: Sequence[Path] = (),
        readable: Sequence[Path] = (),
    ) -> Command:
        """What to start for `argv` run in `cwd`: confined, with the jail's environment."""
        env = self.environment(own_env or {})
        if self.kind == "none":
            return Command.of(argv, cwd, env)
        if self.kind == "sandbox-exec":
            prefix = seatbelt.arguments(
                writable=(*((self.worktree,) if self.worktree_writable else ()), *writable, self.private_dir()),
                readable=(*self.readable, *readable, *(() if self.worktree_writable else (self.worktree,))),
                hidden=(self.home, *self.hidden),
                network=self.policy.network,
            )
            return Command.of([*prefix, *argv], cwd, env)
        prefix = bubblewrap.arguments(
            bubblewrap.Mounts(
                writable=((self.worktree,) if self.worktree_writable else ()) + tuple(writable),
                readable=(*self.readable, *readable, *(() if self.worktree_writable else (self.worktree,))),
                hidden=(self.home, *self.hidden),
            ),
            network=self.policy.network,
            cwd=cwd,
        )
        return Command.of([*prefix, *argv], cwd, env)

    def describe(self) -> str:
        """One line for `autodev plan` and the run's start."""
        if self.kind == "none":
            return "none: sandbox is off, so the project's tests and agents' commands run with your permissions"
        network = "network allowed" if self.policy.network else "no network"
        extra = f", passing {', '.join(self.policy.env)}" if self.policy.env else ""
        return f"{self.kind}: {network}, private HOME and /tmp, only the run's worktree writable{extra}"

    @property
    def warning(self) -> str | None:
        """What every run says when nothing confines executed code."""
        if self.kind != "none":
            return None
        return "warning: sandbox is off: the project's tests and agents' commands run unconfined, as you"


def allowed_environment(
    own: Mapping[str, str], passed: Sequence[str] = (), inherited: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The allow-listed part of `inherited` (default: this process's environment), then `own` on top.

    Every withheld value of this process's environment is registered for redaction: a test that
    prints its environment, or a report that quotes one, shows `[REDACTED:env:NAME]`, never a value
    the jail kept back. HOME is passed on as it is (a jail replaces it).
    """
    source = os.environ if inherited is None else inherited
    names = set(passed)
    env: dict[str, str] = {}
    for name, value in source.items():
        if name in JAIL_ENV_NAMES or name.startswith(JAIL_ENV_PREFIXES) or name in names or name == "HOME":
            env[name] = value
        elif inherited is None and not harmless_name(name) and _worth_redacting(value):
            register_secret(name, value)
    env.update(own)
    return env


def _worth_redacting(value: str) -> bool:
    value = value.strip()
    return len(value) >= 8 and not value.startswith(("/", "~")) and " " not in value


@cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap can't jail here (None when it can): not installed, or the kernel refuses it."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap runs on Linux only (this is {sys.platform})"
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed"
    probe = bubblewrap.arguments(bubblewrap.Mounts(), network=False, cwd=Path("/"), binary=binary)
    try:
        done = subprocess.run([*probe, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return f"bubblewrap could not create a jail here: {reason[-1] if reason else f'exit {done.returncode}'}"
    return None


def jail_for(
    policy: SandboxPolicy, worktree: Path, checkout: Path, readable: Sequence[Path] = (), *, writable: bool = True
) -> Jail:
    """The jail for a run in `worktree` of the repository `checkout`; raises `UserError` when the policy
    asks for a jail this machine can't give, so no project code runs unconfined by accident."""
    if policy.mode == "off":
        return Jail("none", policy, worktree, worktree_writable=writable)
    hidden = (checkout, *agent_socket_dirs())
    if sys.platform == "darwin" and policy.mode == "auto" and Path(seatbelt.SANDBOX_EXEC).is_file():
        return Jail("sandbox-exec", policy, worktree, tuple(interpreter_paths()), hidden, worktree_writable=writable)
    problem = bubblewrap_problem()
    if problem is not None:
        raise UserError(f"no jail for the project's code: {problem}", hint=INSTALL_HINT)
    common = git_common_dir(checkout)
    seen = [*interpreter_paths(), *readable, *([common] if common else []), *network_files(policy)]
    return Jail("bubblewrap", policy, worktree, tuple(dict.fromkeys(seen)), hidden, worktree_writable=writable)


def interpreter_paths() -> list[Path]:
    """What Python programs need to read even where the home directory is hidden: this interpreter's
    prefixes (a pyenv or venv under HOME), autodev's own package (its pytest report plugin, an
    editable install), the user's site-packages, and the PATH directories under HOME (`uv`, `ruff`)."""
    import autodev

    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(autodev.__file__).parent.parent}
    found.add(Path(os.path.realpath(sys.executable)).parent.parent)
    home = Path.home()
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and os.path.isabs(entry) and Path(entry).is_relative_to(home):
            found.add(Path(entry))
    found.update(home / rel for rel in TOOLCHAIN_DIRS)
    return sorted(path for path in found if path.is_dir() and path != Path("/"))


def git_common_dir(checkout: Path) -> Path | None:
    """The checkout's `.git` directory (a linked worktree's `.git` file points into it)."""
    candidate = checkout / ".git"
    return candidate if candidate.is_dir() else None


def network_files(policy: SandboxPolicy) -> list[Path]:
    """With the network on, name resolution must work although `/run` is hidden: `/etc/resolv.conf`
    is often a link into it (systemd-resolved)."""
    if not policy.network:
        return []
    target = Path(os.path.realpath("/etc/resolv.conf"))
    return [target] if target.is_file() and target != Path("/etc/resolv.conf") else []


def agent_socket_dirs() -> list[Path]:
    """Where ssh-agent, gpg-agent, D-Bus and the Docker socket live: a socket is a way out of any jail."""
    found = [Path("/run")]
    sock = os.environ.get("SSH_AUTH_SOCK")
    if sock:
        found.append(Path(sock).parent)
    return [path for path in found if path.is_dir()]
