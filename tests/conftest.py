"""Shared fixtures: every test runs with a clean environment and can make throwaway git repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ISOLATED_ENV = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AUTODEV_PROVIDER",
    "AUTODEV_BASE_URL", "AUTODEV_MAX_PARALLEL", "AUTODEV_SCRIPT", "AUTODEV_MODEL_FAST", "AUTODEV_MODEL_BALANCED",
    "AUTODEV_MODEL_DEEP", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS",
    "AUTODEV_OTEL",
)  # fmt: skip

GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys, no user-level agent files, no provider picked up from the developer's shell."""
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """`make_repo({"path": "content", ...})` -> a git repository with those files in one commit."""

    def make(files: dict[str, str] | None = None, name: str = "repo") -> Path:
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "--quiet", "--initial-branch=main")
        for rel, content in (files or {"README.md": "# project\n"}).items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", "initial")
        return repo

    return make


@pytest.fixture(autouse=True, scope="session")
def no_user_config(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> None:
    """Module- and session-scoped fixtures run before `isolated_env`: they must not read ~/.config/autodev either."""
    patch = pytest.MonkeyPatch()
    request.addfinalizer(patch.undo)
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-session")))
