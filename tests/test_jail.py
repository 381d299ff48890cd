"""The jail itself (issue #16, item 1), program by program: what executed code may write, read, reach
and leave behind, run through the one process runner exactly as the gate, Bash and the analysers do."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from conftest import require_jail
from process_support import processes_mentioning

from autodev.core.process import HeadTail, run_process
from autodev.sandbox.bubblewrap import Mounts
from autodev.sandbox.jail import Jail, SandboxPolicy, allowed_environment, jail_for

SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-jail-test-0123456789",
    "AWS_ACCESS_KEY_ID": "AKIAJAILTEST01234567",
    "AZURE_OPENAI_KEY": "azure-jail-test-value-123",
    "MISTRAL_KEY": "mistral-jail-test-value-456",
    "DATABASE_URL": "postgres://user:hunter2jail@db.example/app",
    "NPM_CONFIG__AUTH": "bnBtLWphaWwtdGVzdA==",
    "SSH_AUTH_SOCK": "/tmp/ssh-jailtest/agent.1",
    "GOOGLE_APPLICATION_CREDENTIALS": "/home/someone/creds.json",
    "GH_TOKEN": "ghp_jailtest0123456789abcdefghijklmnop",
}


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A checkout with a `.git`, a worktree inside its `.autodev`, and a HOME holding a `.bashrc`."""
    require_jail()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# the user's\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (repo / "src.py").write_text("original\n", encoding="utf-8")
    (repo / ".autodev" / "worktrees" / "run1").mkdir(parents=True)
    yield repo


def worktree_of(repo: Path) -> Path:
    return repo / ".autodev" / "worktrees" / "run1"


def run(jail: Jail, code: str, cwd: Path, writable: tuple[Path, ...] = ()) -> tuple[int | None, str]:
    output = HeadTail.everything()
    command = jail.command([sys.executable, "-c", code], cwd, {}, writable=writable)
    finished = anyio.run(run_process, command, 60.0, output)
    return finished.exit_code, output.decoded()


def jail(repo: Path, **policy: object) -> Jail:
    return jail_for(SandboxPolicy(**policy), worktree_of(repo), repo)  # type: ignore[arg-type]


def test_only_the_worktree_is_writable_and_home_is_private_and_empty(checkout: Path) -> None:
    code = (
        "import os, pathlib\n"
        "def tries(path):\n"
        "    try:\n"
        "        with open(path, 'a') as handle: handle.write('x')\n"
        "        return 'wrote'\n"
        "    except OSError as exc: return type(exc).__name__\n"
        "home = pathlib.Path(os.environ['HOME'])\n"
        f"print('home', sorted(p.name for p in home.iterdir()))\n"
        f"print('bashrc', tries(home / '.bashrc'))\n"
        f"print('git', tries({str(checkout / '.git' / 'config')!r}))\n"
        f"print('checkout', tries({str(checkout / 'src.py')!r}))\n"
        "print('worktree', tries('made.txt'))\n"
        "print('tmp', tries('/tmp/x'))\n"
    )
    code_, out = run(jail(checkout), code, worktree_of(checkout))
    assert code_ == 0, out
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert lines["home"] == "[]"  # the user's .bashrc is not even visible
    assert lines["git"] in ("OSError", "PermissionError")  # read-only
    assert lines["worktree"] == "wrote" and lines["tmp"] == "wrote"
    assert (checkout / ".git" / "config").read_text(encoding="utf-8") == "[core]\n"
    assert (checkout / "src.py").read_text(encoding="utf-8") == "original\n"
    assert (Path(os.environ["HOME"]) / ".bashrc").read_text(encoding="utf-8") == "# the user's\n"
    assert (worktree_of(checkout) / "made.txt").read_text(encoding="utf-8") == "x"


class Listener:
    """A loopback server in the test's own network namespace that records every connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.received.append(conn.recv(65536))

    def close(self) -> None:
        """Stop listening and end the thread. Closing alone does not wake an `accept` in progress: the thread
        stayed behind, blocked, and took the connections of a later test's server given the same descriptor
        number (test_local_models' fake server saw "closed connection without response", then hung)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept (EINVAL), so the thread returns
        self.sock.close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the listener's thread did not end"


CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)\n"
    "    s.sendall(b'hello'); s.close(); print('connected')\n"
    "except OSError as exc: print('refused', exc)\n"
)


def test_no_network_unless_the_user_allows_it(checkout: Path) -> None:
    listener = Listener()
    try:
        for network in (False, True):
            output = HeadTail.everything()
            command = jail(checkout, network=network).command(
                [sys.executable, "-c", CONNECT, str(listener.port)], worktree_of(checkout), {}
            )
            anyio.run(run_process, command, 60.0, output)
            assert ("connected" in output.decoded()) is network, output.decoded()
    finally:
        listener.close()
    assert listener.received == [b"hello"]  # one connection: the allowed one


def test_the_environment_is_an_allow_list(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PROJECT_SETTING", "wanted")
    code = "import os; print(repr(dict(os.environ)))"
    _, out = run(jail(checkout, env=("PROJECT_SETTING",)), code, worktree_of(checkout))
    seen = eval(out)
    assert not SECRETS.keys() & seen.keys()
    assert not [value for value in SECRETS.values() if value in out]
    assert seen["PROJECT_SETTING"] == "wanted" and seen["PATH"] == os.environ["PATH"]
    assert seen["HOME"] == os.environ["HOME"] and seen["TMPDIR"] == "/tmp"


def test_the_environment_is_filtered_with_the_sandbox_off_too(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    env = allowed_environment({"OWN": "1"})
    assert not SECRETS.keys() & env.keys()
    assert env["OWN"] == "1" and env["PATH"] == os.environ["PATH"]


def test_nothing_it_starts_outlives_it(checkout: Path) -> None:
    marker = f"autodev-jail-daemon-{uuid.uuid4().hex}"
    daemon = "import os, sys, time\nif os.fork(): sys.exit()\nos.setsid()\nif os.fork(): sys.exit()\ntime.sleep(600)"
    code = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {daemon!r}, {marker!r}]); print('left')"
    exit_code, out = run(jail(checkout), code, worktree_of(checkout))
    assert exit_code == 0 and "left" in out
    assert marker not in _all_command_lines()


def _all_command_lines() -> str:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().decode("utf-8", errors="replace"))
            except OSError:
                continue
    return "\n".join(found)


def test_a_run_without_a_worktree_writes_nothing(checkout: Path) -> None:
    read_only = jail_for(SandboxPolicy(), checkout, checkout, writable=False)
    code = "open('src.py', 'a').write('x')"
    exit_code, out = run(read_only, code, checkout)
    assert exit_code != 0 and "Read-only file system" in out
    assert (checkout / "src.py").read_text(encoding="utf-8") == "original\n"


def test_a_scratch_directory_named_by_the_caller_is_writable(checkout: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    exit_code, out = run(
        jail(checkout), f"open({str(scratch / 'r.xml')!r}, 'w').write('ok')", worktree_of(checkout), (scratch,)
    )
    assert exit_code == 0, out
    assert (scratch / "r.xml").read_text(encoding="utf-8") == "ok"


def test_mounts_go_shallow_first_and_hidden_before_readable_before_writable(tmp_path: Path) -> None:
    home, repo = tmp_path / "home", tmp_path / "home" / "repo"
    for path in (home / ".venv", repo / ".git", repo / ".autodev" / "wt"):
        path.mkdir(parents=True)
    mounts = Mounts(writable=[repo / ".autodev" / "wt"], readable=[repo / ".git", home / ".venv"], hidden=[repo, home])
    assert mounts.ordered() == [
        ("hidden", home),
        ("hidden", repo),
        ("readable", home / ".venv"),
        ("readable", repo / ".git"),
        ("writable", repo / ".autodev" / "wt"),
    ]


def test_sandbox_off_runs_unconfined_and_says_so(checkout: Path) -> None:
    off = jail_for(SandboxPolicy(mode="off"), worktree_of(checkout), checkout)
    assert off.kind == "none" and off.warning and "unconfined" in off.warning
    command = off.command(["true"], worktree_of(checkout), {})
    assert command.argv == ("true",)


def test_the_macos_profile_denies_writes_reads_of_hidden_paths_and_the_network(tmp_path: Path) -> None:
    """sandbox-exec is not on this machine: the profile and the command line are what is checked here."""
    from autodev.sandbox import seatbelt

    home, repo = tmp_path / "home", tmp_path / 'odd "repo"'
    text = seatbelt.profile(writable=[repo / "wt"], readable=[home / ".venv"], hidden=[home, repo], network=False)
    lines = text.splitlines()
    assert lines[:3] == ["(version 1)", "(allow default)", "(deny network*)"]
    assert lines.index("(deny file-write*)") < next(i for i, line in enumerate(lines) if "allow file-write*" in line)
    assert f'(subpath "{tmp_path}/odd \\"repo\\"/wt")' in text  # quotes escaped, not a way out of the string
    assert "(deny network*)" not in seatbelt.profile(writable=[], readable=[], hidden=[], network=True)
    jail = Jail("sandbox-exec", SandboxPolicy(), repo / "wt", hidden=(repo,), home=home)
    command = jail.command(["true"], repo / "wt", {})
    assert command.argv[:2] == (seatbelt.SANDBOX_EXEC, "-p") and command.argv[-1] == "true"
    assert command.env["HOME"] == command.env["TMPDIR"] == str(jail.private_dir())
    assert str(jail.private_dir()) in command.argv[2]  # the private directory is writable
    jail.private_dir().rmdir()


def _children_of(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def test_every_process_of_the_jail_is_in_the_group_autodev_stops(checkout: Path) -> None:
    """bubblewrap's `--new-session` put the jail's first process in a session of its own, out of reach of
    the group kill: only `--die-with-parent` ended it, which races with a jail stopped just after it
    started (bubblewrap #633), and it outlived its run holding the output pipe. Now the program autodev
    started (bwrap) leads the group of every process in the jail, and stopping it leaves nothing."""
    marker = uuid.uuid4().hex
    code = f"import time; print({marker!r}, flush=True); time.sleep(600)"
    command = jail(checkout).command([sys.executable, "-c", code], worktree_of(checkout), {})
    output = HeadTail.everything()
    groups: dict[int, int] = {}

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(run_process, command, 120.0, output)
            with anyio.fail_after(60):
                while marker not in output.decoded():
                    await anyio.sleep(0.02)
            (bwrap,) = [
                pid for pid in _children_of(os.getpid()) if b"bwrap" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            groups.update({pid: os.getpgid(pid) for pid in processes_mentioning(marker)})
            groups[-1] = bwrap
            group.cancel_scope.cancel()

    anyio.run(main)
    bwrap = groups.pop(-1)
    assert groups and set(groups.values()) == {bwrap}, (bwrap, groups)
    assert not processes_mentioning(marker)
