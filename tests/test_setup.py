"""`autodev init` and `autodev doctor` (issue 18, item 7): a config written from what autodev detects, each
line saying why, that `doctor` accepts — on the demo project (Anthropic) and on a real uv project (an
OpenAI-compatible server); `doctor` fails with exit 1 and one clear line when the key is refused.
The providers are the local fake servers speaking the real protocols; no network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI
from fakes.server import Error, Reply, ToolCall
from gh_fake import install_fake_gh

from autodev.apps.cli.main import main
from autodev.apps.demo import make_demo_repo
from autodev.config.trust import repo_trust

CALLS_THE_TOOL = Reply(tool_calls=[ToolCall("ready", {})])
KEY = "sk-test-good"
GREET_TEST = (
    "import unittest\n\nfrom greeter import greet\n\n\n"
    "class GreetTests(unittest.TestCase):\n    def test_greet(self):\n        self.assertEqual(greet(), 'hello')\n"
)


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(default=CALLS_THE_TOOL, api_key=KEY) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        yield fake


def config_of(repo: Path) -> dict[str, Any]:
    return tomllib.loads((repo / ".autodev" / "config.toml").read_text(encoding="utf-8"))


def test_init_on_the_demo_project_writes_a_config_doctor_accepts(
    tmp_path: Path, anthropic: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_demo_repo(tmp_path)
    assert main(["init", "--repo", str(repo)]) == 0
    text = (repo / ".autodev" / "config.toml").read_text(encoding="utf-8")
    config = config_of(repo)
    assert config["provider"] == "anthropic"
    assert config["tiers"] == {"fast": "claude-haiku-5-5", "balanced": "claude-sonnet-5-5", "deep": "claude-opus-5-5"}
    assert config["test_command"][1:4] == ["-m", "pytest", "-q"] or config["test_command"][1:3] == ["-m", "unittest"]
    assert "# provider: from env ANTHROPIC_API_KEY" in text and "# tests: python on PATH" in text
    assert repo_trust(repo).status == "trusted"  # init approved what it wrote itself
    said = capsys.readouterr().out
    assert "approved what it wrote" in said and "autodev doctor" in said

    assert main(["doctor", "--repo", str(repo)]) == 0
    said = capsys.readouterr().out
    assert "✓ provider anthropic: answers" in said
    for model, tier in (("claude-haiku-5-5", "fast"), ("claude-sonnet-5-5", "balanced"), ("claude-opus-5-5", "deep")):
        assert f"✓ model {model} ({tier}): exists and calls tools" in said
    assert "✓ tests: " in said and " passed " in said and "✓ trust" in said and "✓ git" in said
    assert "ready. next: autodev plan" in said
    probes = [r.body for r in anthropic.requests]
    assert sorted(body["model"] for body in probes) == ["claude-haiku-5-5", "claude-opus-5-5", "claude-sonnet-5-5"]
    assert all(body["tools"][0]["name"] == "ready" for body in probes)  # one tiny tool-call request per model
    assert not (repo / ".autodev" / "worktrees").exists() or not any((repo / ".autodev" / "worktrees").iterdir())
    assert "doctor" not in git(repo, "worktree", "list")


def test_doctor_fails_with_one_clear_line_when_the_key_is_refused(
    tmp_path: Path, anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_demo_repo(tmp_path)
    assert main(["init", "--repo", str(repo)]) == 0
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-wrong")
    capsys.readouterr()
    assert main(["doctor", "--repo", str(repo)]) == 1
    said = capsys.readouterr().out
    refused = [line for line in said.splitlines() if line.startswith("✗ provider anthropic")]
    assert len(refused) == 1 and "the key was refused" in refused[0] and "401" in refused[0]
    assert "sk-test-wrong" not in said
    assert len(anthropic.requests) == 1  # the first refusal says it for every model
    assert "check(s) failed" in said


def test_doctor_names_a_model_the_server_does_not_have(
    tmp_path: Path, anthropic: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_demo_repo(tmp_path)
    assert main(["init", "--repo", str(repo)]) == 0

    def respond(request: Any) -> Any:
        if request.body["model"] == "claude-opus-5-5":
            return Error(404, "model: claude-opus-5-5")
        return None

    anthropic.responder = respond
    capsys.readouterr()
    assert main(["doctor", "--repo", str(repo)]) == 1
    said = capsys.readouterr().out
    assert "✓ provider anthropic" in said and "✓ model claude-haiku-5-5" in said
    assert "✗ model claude-opus-5-5 (deep): not found" in said


def test_init_on_a_uv_project_writes_a_config_doctor_accepts(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (the test extra brings it)")
    repo = make_repo(
        {
            "pyproject.toml": '[project]\nname = "greeter"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
            "dependencies = []\n",
            "src/greeter/__init__.py": 'def greet():\n    return "hello"\n',
            "tests/__init__.py": "",
            "tests/test_greeter.py": GREET_TEST,
            ".gitignore": ".venv/\n.autodev/\n",
        }
    )
    subprocess.run([uv, "sync", "--offline", "--quiet"], cwd=repo, check=True, capture_output=True)
    git(repo, "add", "uv.lock")
    git(repo, "commit", "--quiet", "-m", "lock")
    with FakeOpenAI(default=CALLS_THE_TOOL) as fake:
        gone = fake.base_url
        monkeypatch.setenv("OPENAI_BASE_URL", gone)
        assert main(["init", "--repo", str(repo)]) == 0
        config = config_of(repo)
        assert config["provider"] == "openai"
        assert config["test_command"] == ["python", "-m", "unittest", "discover", "-q"]  # the uv env's python
        text = (repo / ".autodev" / "config.toml").read_text(encoding="utf-8")
        assert "# tests: uv (" in text and "uv.lock in the checkout" in text
        capsys.readouterr()
        assert main(["doctor", "--repo", str(repo)]) == 0, capsys.readouterr().out
        said = capsys.readouterr().out
        assert "✓ tests: `python -m unittest discover -q` runs: 1 passed" in said
        assert "✓ model gpt-5-nano (fast): exists and calls tools" in said
        assert len(fake.requests) == 3


def test_init_asks_before_replacing_a_configuration(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo({"README.md": "# x\n", ".autodev/config.toml": "max_parallel = 2\n"})
    before = (repo / ".autodev" / "config.toml").read_text(encoding="utf-8")
    assert main(["init", "--repo", str(repo)]) == 2  # stdin is not a terminal here: an error, not a prompt
    assert "already configures this repository" in capsys.readouterr().err
    assert (repo / ".autodev" / "config.toml").read_text(encoding="utf-8") == before
    assert main(["init", "--repo", str(repo), "--yes", "--provider", "openai"]) == 0
    assert (repo / ".autodev" / "config.toml.bak").read_text(encoding="utf-8") == before
    config = config_of(repo)
    assert config["provider"] == "openai" and "test_command" not in config  # no tests here: a commented line
    assert '# test_command = "python -m pytest -q"' in (repo / ".autodev" / "config.toml").read_text()


def test_init_leaves_settings_the_user_has_not_seen_to_autodev_trust(
    make_repo: Any, anthropic: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = "---\nname: helper\ndescription: Runs things.\ntools: Read, Bash\n---\nYou help.\n"
    files = {"tests/test_x.py": "def test_x():\n    pass\n", ".autodev/agents/helper.md": agent}
    repo = make_repo(files, trusted=False)
    assert main(["init", "--repo", str(repo)]) == 0
    said = capsys.readouterr().out
    assert "not approved yet" in said and "agent helper" in said and "autodev trust" in said
    assert repo_trust(repo).status == "untrusted"
    assert main(["doctor", "--repo", str(repo)]) == 1
    assert "✗ trust: " in capsys.readouterr().out


def test_doctor_checks_the_gh_login_when_asked_for_a_pull_request(
    tmp_path: Path, anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_demo_repo(tmp_path)
    assert main(["init", "--repo", str(repo)]) == 0
    gh = install_fake_gh(tmp_path, monkeypatch, {})
    gh.fail("auth status", "You are not logged into any GitHub hosts. To log in, run: gh auth login")
    capsys.readouterr()
    assert main(["doctor", "--repo", str(repo), "--pr"]) == 1
    said = capsys.readouterr().out
    assert "✗ remote: no remote 'origin'" in said
    assert "✗ gh: not logged in (You are not logged into any GitHub hosts." in said and "gh auth login" in said
    assert gh.calls_of("auth", "status")


def test_doctor_says_when_the_base_url_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_demo_repo(tmp_path)
    with FakeOpenAI(default=CALLS_THE_TOOL) as fake:
        gone = fake.base_url
        monkeypatch.setenv("OPENAI_BASE_URL", gone)
        assert main(["init", "--repo", str(repo)]) == 0
    # the server is gone now: nothing listens at the base URL
    capsys.readouterr()
    assert main(["doctor", "--repo", str(repo), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    provider = next(check for check in report["checks"] if check["name"] == "provider openai")
    assert provider["status"] == "fail" and provider["detail"].startswith(f"no answer from {gone}")
    assert "base URL" in provider["fix"]
    assert {check["name"] for check in report["checks"] if check["status"] == "ok"} >= {"git", "config", "tests"}
