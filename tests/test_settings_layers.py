"""The settings' layers: the user-level file, the precedence user < repository < environment < flags with
each value's source, and `autodev config show` (its rows, its JSON, its exit codes, no secret shown).

Every test points both XDG_CONFIG_HOME and HOME into tmp_path: the developer's own files are never read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autodev.apps.cli.main import main
from autodev.config.schema import KEYS
from autodev.config.settings import DEFAULT_TIER_MODELS, CliOverrides, load_settings
from autodev.config.sources import user_config_file
from autodev.core.errors import UserError

ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9" * 12


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home with no XDG_CONFIG_HOME: the user-level file is then `~/.config/autodev/config.toml`."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return path


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_CONFIG_HOME in tmp_path (and HOME elsewhere in it, to prove XDG wins)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(tmp_path: Path, config: str | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    if config is not None:
        write(repo / ".autodev" / "config.toml", config)
    return repo


# ---------------------------------------------------------------- the user-level file
def test_the_user_file_lives_under_xdg_config_home(xdg: Path, tmp_path: Path) -> None:
    user = write(xdg / "autodev" / "config.toml", 'provider = "openai"\nmax_parallel = 2\n')
    write(tmp_path / "home" / ".config" / "autodev" / "config.toml", "max_parallel = 9\n")  # not read
    assert user_config_file() == user
    settings = load_settings(project(tmp_path), env={})
    assert (settings.provider, settings.max_parallel) == ("openai", 2)
    assert settings.sources["provider"] == settings.sources["max_parallel"] == str(user)


def test_without_xdg_config_home_the_user_file_is_under_home(home: Path, tmp_path: Path) -> None:
    user = write(home / ".config" / "autodev" / "config.toml", "budget_tokens = 1234\n")
    assert user_config_file() == user
    settings = load_settings(project(tmp_path), env={})
    assert settings.budget_tokens == 1234
    assert settings.sources["budget_tokens"] == str(user)


def test_the_user_file_applies_outside_any_repository(xdg: Path) -> None:
    write(xdg / "autodev" / "config.toml", 'provider = "scripted"\n[tiers]\nfast = "tiny"\n')
    settings = load_settings(None, env={})
    assert settings.provider == "scripted"
    assert settings.tiers == {"fast": "tiny", "balanced": "scripted-balanced", "deep": "scripted-deep"}


def test_no_user_file_changes_nothing(xdg: Path, tmp_path: Path) -> None:
    settings = load_settings(project(tmp_path), env={})
    assert settings.sources == {"provider": "none configured"}
    assert settings.max_parallel == 4


def test_a_user_file_script_is_relative_to_the_user_directory(xdg: Path, tmp_path: Path) -> None:
    write(xdg / "autodev" / "config.toml", 'script = "replies.yaml"\n')
    assert load_settings(project(tmp_path), env={}).script == (xdg / "autodev" / "replies.yaml").resolve()


@pytest.mark.parametrize(
    ("text", "needle"),
    [("max_paralel = 2\n", "max_paralel: unknown key"), ('provider = "gemini"\n', "unknown provider 'gemini'")],
)
def test_a_bad_user_file_names_itself(xdg: Path, tmp_path: Path, text: str, needle: str) -> None:
    user = write(xdg / "autodev" / "config.toml", text)
    with pytest.raises(UserError) as info:
        load_settings(project(tmp_path), env={})
    assert str(info.value).startswith(f"{user}: invalid configuration: ")
    assert needle in str(info.value)


def test_user_file_that_is_not_toml(xdg: Path, tmp_path: Path) -> None:
    user = write(xdg / "autodev" / "config.toml", "max_parallel = \n")
    with pytest.raises(UserError, match="not valid TOML") as info:
        load_settings(project(tmp_path), env={})
    assert str(user) in str(info.value)


# ---------------------------------------------------------------- precedence
USER = """
provider = "openai"
max_parallel = 2
bash_timeout_s = 30
[tiers]
fast = "user-fast"
balanced = "user-balanced"
[agents.reviewer]
tier = "deep"
[write_scopes]
doc-master = ["docs/**"]
"""
REPO = """
max_parallel = 3
[tiers]
fast = "repo-fast"
[agents.planner]
model = "planner-model"
"""
ENV = {"AUTODEV_MAX_PARALLEL": "5", "AUTODEV_MODEL_FAST": "env-fast", "AUTODEV_PROVIDER": "scripted"}
FLAGS = CliOverrides(max_parallel=7, models=("fast=flag-fast",), provider="anthropic")


@pytest.mark.parametrize(
    ("layers", "max_parallel", "fast", "provider", "source"),
    [
        ("user", 2, "user-fast", "openai", "user"),
        ("user+repo", 3, "repo-fast", "openai", "repo"),
        ("user+repo+env", 5, "env-fast", "scripted", "env"),
        ("user+repo+env+flags", 7, "flag-fast", "anthropic", "flags"),
    ],
)
def test_user_then_repository_then_environment_then_flags(
    xdg: Path, tmp_path: Path, layers: str, max_parallel: int, fast: str, provider: str, source: str
) -> None:
    user = write(xdg / "autodev" / "config.toml", USER)
    repo = project(tmp_path, REPO if "repo" in layers else None)
    env = ENV if "env" in layers else {}
    settings = load_settings(repo, FLAGS if "flags" in layers else CliOverrides(), env=env)
    assert (settings.max_parallel, settings.tiers["fast"], settings.provider) == (max_parallel, fast, provider)
    repo_file = str(repo / ".autodev" / "config.toml")
    expected = {
        "user": {"max_parallel": str(user), "tiers.fast": str(user), "provider": str(user)},
        "repo": {"max_parallel": repo_file, "tiers.fast": repo_file, "provider": str(user)},
        "env": {
            "max_parallel": "env AUTODEV_MAX_PARALLEL",
            "tiers.fast": "env AUTODEV_MODEL_FAST",
            "provider": "env AUTODEV_PROVIDER",
        },
        "flags": {"max_parallel": "--max-parallel", "tiers.fast": "--model", "provider": "--provider"},
    }[source]
    assert {key: settings.sources[key] for key in expected} == expected
    # what no later layer names keeps the user's value and source
    assert settings.bash_timeout_s == 30 and settings.sources["bash_timeout_s"] == str(user)
    assert settings.tiers["balanced"] == "user-balanced"
    assert settings.tiers["deep"] == DEFAULT_TIER_MODELS[provider]["deep"]
    assert settings.sources["tiers.deep"] == f"default for {provider}"


def test_tables_merge_entry_by_entry_across_files(xdg: Path, tmp_path: Path) -> None:
    user = write(xdg / "autodev" / "config.toml", USER)
    repo = project(tmp_path, REPO + '[agents.reviewer]\nmodel = "repo-reviewer"\n')
    settings = load_settings(repo, env={})
    repo_file = str(repo / ".autodev" / "config.toml")
    assert settings.agents["planner"].model == "planner-model"
    assert settings.agents["reviewer"].model == "repo-reviewer"  # the repository's entry replaces the user's
    assert settings.agents["reviewer"].tier is None
    assert settings.sources["agents.reviewer"] == settings.sources["agents.planner"] == repo_file
    assert settings.write_scopes["doc-master"] == ["docs/**"]
    assert settings.sources["write_scopes.doc-master"] == str(user)
    assert settings.write_scopes["implementer"] == ["**"]  # the built-in entries stay
    assert "write_scopes.implementer" not in settings.sources


def test_a_configured_provider_beats_the_detected_one(xdg: Path, tmp_path: Path) -> None:
    user = write(xdg / "autodev" / "config.toml", 'provider = "openai"\n')
    settings = load_settings(project(tmp_path), env={"ANTHROPIC_API_KEY": "k"})
    assert (settings.provider, settings.sources["provider"]) == ("openai", str(user))


# ---------------------------------------------------------------- autodev config show
def show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["config", "show", "--json", *args])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else {}), captured.err


def rows(data: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    return {row["key"]: (row["value"], row["source"]) for row in data["settings"]}


def test_config_show_lists_every_key_with_its_source(
    xdg: Path, make_repo: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write(xdg / "autodev" / "config.toml", USER)
    repo = make_repo({"README.md": "x\n", ".autodev/config.toml": REPO})
    monkeypatch.setenv("AUTODEV_MODEL_FAST", "env-fast")
    code, data, _ = show(capsys, "--repo", str(repo), "--max-parallel", "6")
    assert code == 0
    assert data["user_file"] == str(user) and data["user_file_exists"] is True
    assert data["repo_file"] == str(repo / ".autodev" / "config.toml")
    shown = rows(data)
    assert {key.partition(".")[0] for key in shown} == set(KEYS)
    assert shown["provider"] == ("openai", str(user))
    assert shown["max_parallel"] == (6, "--max-parallel")
    assert shown["tiers.fast"] == ("env-fast", "env AUTODEV_MODEL_FAST")
    assert shown["tiers.deep"] == ("gpt-5", "default for openai")
    assert shown["agents.planner"] == ({"model": "planner-model", "tier": None}, str(repo / ".autodev" / "config.toml"))
    assert shown["budget_tokens"] == (8000, "default")
    assert data["capabilities"] == {
        "web_search": False,
        "prompt_caching": True,
        "usage_reporting": True,
        "tool_call_format": "openai-function-calling",
    }


def test_config_show_text(xdg: Path, make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo({"README.md": "x\n", ".autodev/config.toml": "max_parallel = 3\n"})
    assert main(["config", "show", "--repo", str(repo), "--provider", "anthropic"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"user file:       {xdg / 'autodev' / 'config.toml'} (not found)"
    assert lines[1] == f"repository file: {repo / '.autodev' / 'config.toml'}"
    assert lines[2].startswith("provider anthropic: web search: yes, prompt caching: yes")
    by_key = {line.split()[0]: line for line in lines[3:]}
    assert by_key["max_parallel"].split() == ["max_parallel", "3", f"({repo / '.autodev' / 'config.toml'})"]
    assert by_key["provider"].split() == ["provider", "anthropic", "(--provider)"]
    assert by_key["budget_tokens"].split() == ["budget_tokens", "8000", "(default)"]


def test_config_show_never_prints_a_secret(
    xdg: Path, make_repo: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(
        {"README.md": "x\n", ".autodev/config.toml": 'base_url = "https://me:hunter2pass@llm.example/v1"\n'}
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    for args in (["--json"], []):
        assert main(["config", "show", "--repo", str(repo), *args]) == 0
        out = capsys.readouterr().out
        assert ANTHROPIC_KEY not in out and "hunter2pass" not in out
        assert "REDACTED" in out
        assert "env ANTHROPIC_API_KEY" in out  # the source names the variable, never its value


def test_config_show_outside_a_repository_uses_the_user_file(
    xdg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(xdg / "autodev" / "config.toml", "max_parallel = 2\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    code, data, _ = show(capsys)
    assert code == 0
    assert data["repo"] is None and data["repo_file"] is None
    assert rows(data)["max_parallel"] == (2, str(xdg / "autodev" / "config.toml"))


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("none", ["--repo", "nowhere"], "error: nowhere does not exist"),
        ("bad-user-file", [], "invalid configuration: max_paralel: unknown key"),
        ("bad-env", [], "error: unknown provider 'gemini' (from env AUTODEV_PROVIDER)"),
        ("none", ["--model", "turbo=x"], "error: --model 'turbo=x': expected TIER=MODEL_ID"),
    ],
)
def test_config_show_bad_input_exits_2(
    xdg: Path,
    make_repo: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    args: list[str],
    message: str,
) -> None:
    repo = make_repo()
    monkeypatch.chdir(repo.parent)
    if setup == "bad-user-file":
        write(xdg / "autodev" / "config.toml", "max_paralel = 2\n")
    if setup == "bad-env":
        monkeypatch.setenv("AUTODEV_PROVIDER", "gemini")
    code, _, err = show(capsys, *(args or ["--repo", str(repo)]))
    assert code == 2
    assert message in err
    assert "Traceback" not in err
