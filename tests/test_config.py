"""Layered settings, provider detection and tier -> model resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripts import trust_if_valid

from autodev.agent.specs import AgentSpec, load_agents
from autodev.config.settings import (
    DEFAULT_TIER_MODELS,
    AgentOverride,
    CliOverrides,
    load_settings,
    parse_model_flags,
    resolve_model,
)
from autodev.core.errors import UserError


def make_project(tmp_path: Path, config: str | None = None, pyproject: str | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    if config is not None:
        (repo / ".autodev").mkdir(exist_ok=True)
        (repo / ".autodev" / "config.toml").write_text(config, encoding="utf-8")
    if pyproject is not None:
        (repo / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    trust_if_valid(repo)  # the test wrote the settings: approved, as `autodev trust` would
    return repo


def spec(name: str = "agent", model: str = "inherit", tier: str | None = None) -> AgentSpec:
    return AgentSpec(name=name, description="d", prompt="p", source=Path(f"{name}.md"), model=model, tier=tier)


# --- provider detection ------------------------------------------------------------------------


def test_anthropic_key_picks_anthropic(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"ANTHROPIC_API_KEY": "sk-ant-test"})
    assert settings.provider == "anthropic"
    assert settings.require_provider() == "anthropic"
    assert settings.sources["provider"] == "env ANTHROPIC_API_KEY"
    assert settings.tiers == DEFAULT_TIER_MODELS["anthropic"]


def test_anthropic_key_wins_over_openai_key(tmp_path: Path) -> None:
    env = {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}
    assert load_settings(make_project(tmp_path), env=env).provider == "anthropic"


@pytest.mark.parametrize(
    "env", [{"OPENAI_API_KEY": "sk-test"}, {"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}], ids=["key", "base-url"]
)
def test_openai_key_or_base_url_picks_openai(tmp_path: Path, env: dict[str, str]) -> None:
    settings = load_settings(make_project(tmp_path), env=env)
    assert settings.provider == "openai"
    assert "OPENAI" in settings.sources["provider"]
    assert settings.tiers == DEFAULT_TIER_MODELS["openai"]


def test_empty_values_do_not_count(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""})
    assert settings.provider is None


def test_no_provider_is_a_user_error_pointing_at_the_demo(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={})
    assert settings.provider is None
    assert settings.tiers == {}
    with pytest.raises(UserError) as info:
        settings.require_provider()
    assert info.value.exit_code == 2
    assert info.value.hint is not None
    assert "autodev demo" in info.value.hint
    assert "ANTHROPIC_API_KEY" in info.value.hint and "OPENAI_API_KEY" in info.value.hint
    assert "autodev demo" in str(info.value)


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-os-environ")
    assert load_settings(make_project(tmp_path)).provider == "openai"


def test_load_settings_without_a_repo(tmp_path: Path) -> None:
    settings = load_settings(None, env={"ANTHROPIC_API_KEY": "k"})
    assert settings.repo is None
    assert settings.provider == "anthropic"
    assert settings.max_parallel == 4


# --- precedence ----------------------------------------------------------------------------------


CONFIG = """
provider = "openai"
max_parallel = 3
budget_tokens = 5000
test_command = "python -m pytest -q"

[tiers]
fast = "file-fast"
deep = "file-deep"

[agents.security-auditor]
tier = "deep"
"""


def test_defaults_only(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={})
    assert (settings.max_parallel, settings.budget_tokens, settings.max_remediation_cycles) == (4, 8000, 2)
    assert settings.test_command is None
    assert settings.sources == {"provider": "none configured"}


def test_config_file_overrides_defaults_and_detection(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config=CONFIG)
    config_path = str(repo / ".autodev" / "config.toml")
    settings = load_settings(repo, env={"ANTHROPIC_API_KEY": "k"})
    assert settings.provider == "openai"
    assert settings.sources["provider"] == config_path
    assert settings.max_parallel == 3
    assert settings.sources["max_parallel"] == config_path
    assert settings.budget_tokens == 5000
    assert settings.test_command == ["python", "-m", "pytest", "-q"]
    assert settings.tiers == {"fast": "file-fast", "balanced": "gpt-5-mini", "deep": "file-deep"}
    assert settings.sources["tiers.fast"] == config_path
    assert settings.sources["tiers.balanced"] == "default for openai"
    assert settings.agents["security-auditor"] == AgentOverride(tier="deep")


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config=CONFIG)
    env = {
        "AUTODEV_PROVIDER": "scripted",
        "AUTODEV_MAX_PARALLEL": "5",
        "AUTODEV_MODEL_FAST": "env-fast",
        "AUTODEV_BASE_URL": "http://127.0.0.1:9999",
    }
    settings = load_settings(repo, env=env)
    assert settings.provider == "scripted"
    assert settings.sources["provider"] == "env AUTODEV_PROVIDER"
    assert settings.max_parallel == 5
    assert settings.sources["max_parallel"] == "env AUTODEV_MAX_PARALLEL"
    assert settings.base_url == "http://127.0.0.1:9999"
    assert settings.tiers == {"fast": "env-fast", "balanced": "scripted-balanced", "deep": "file-deep"}
    assert settings.sources["tiers.fast"] == "env AUTODEV_MODEL_FAST"


def test_cli_overrides_environment(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config=CONFIG)
    env = {"AUTODEV_PROVIDER": "scripted", "AUTODEV_MAX_PARALLEL": "5", "AUTODEV_MODEL_FAST": "env-fast"}
    cli = CliOverrides(provider="anthropic", models=("fast=cli-fast", "balanced=cli-balanced"), max_parallel=7)
    settings = load_settings(repo, cli, env=env)
    assert settings.provider == "anthropic"
    assert settings.sources["provider"] == "--provider"
    assert settings.max_parallel == 7
    assert settings.sources["max_parallel"] == "--max-parallel"
    # --model beats env, env beats the file, the file beats the provider's defaults
    assert settings.tiers == {"fast": "cli-fast", "balanced": "cli-balanced", "deep": "file-deep"}
    assert settings.sources["tiers.fast"] == "--model"
    assert settings.sources["tiers.deep"] == str(repo / ".autodev" / "config.toml")


def test_unknown_provider_from_env_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        load_settings(make_project(tmp_path), env={"AUTODEV_PROVIDER": "gemini"})
    assert "gemini" in str(info.value) and "AUTODEV_PROVIDER" in str(info.value)


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_bad_max_parallel_in_env(tmp_path: Path, value: str) -> None:
    with pytest.raises(UserError, match="AUTODEV_MAX_PARALLEL"):
        load_settings(make_project(tmp_path), env={"AUTODEV_MAX_PARALLEL": value})


# --- config files ----------------------------------------------------------------------------------


def test_tool_autodev_in_pyproject(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "x"\n\n[tool.autodev]\nprovider = "scripted"\nmax_parallel = 2\n'
    repo = make_project(tmp_path, pyproject=pyproject)
    settings = load_settings(repo, env={})
    assert settings.provider == "scripted"
    assert settings.max_parallel == 2
    assert settings.sources["max_parallel"] == str(repo / "pyproject.toml")


def test_pyproject_without_tool_autodev_is_ignored(tmp_path: Path) -> None:
    repo = make_project(tmp_path, pyproject='[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    settings = load_settings(repo, env={})
    assert settings.max_parallel == 4
    assert "max_parallel" not in settings.sources


def test_config_toml_wins_over_pyproject(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config="max_parallel = 6\n", pyproject="[tool.autodev]\nmax_parallel = 2\n")
    assert load_settings(repo, env={}).max_parallel == 6


def test_unknown_config_key_names_the_file_and_key(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config="max_paralel = 2\n")
    with pytest.raises(UserError) as info:
        load_settings(repo, env={})
    message = str(info.value)
    assert str(repo / ".autodev" / "config.toml") in message
    assert "max_paralel" in message


def test_unknown_key_in_pyproject_names_pyproject(tmp_path: Path) -> None:
    repo = make_project(tmp_path, pyproject="[tool.autodev]\nprovder = 'openai'\n")
    with pytest.raises(UserError) as info:
        load_settings(repo, env={})
    assert str(repo / "pyproject.toml") in str(info.value)
    assert "provder" in str(info.value)


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ('provider = "gemini"\n', "gemini"),
        ("max_parallel = 0\n", "max_parallel"),
        ('[tiers]\nturbo = "x"\n', "turbo"),
        ('[agents.reviewer]\ntier = "turbo"\n', "turbo"),
        ('[agents.reviewer]\ncolour = "red"\n', "colour"),
    ],
)
def test_invalid_values_name_the_file(tmp_path: Path, config: str, needle: str) -> None:
    repo = make_project(tmp_path, config=config)
    with pytest.raises(UserError) as info:
        load_settings(repo, env={})
    assert str(repo / ".autodev" / "config.toml") in str(info.value)
    assert needle in str(info.value)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config='provider = "openai\nmax_parallel = 2\n')
    with pytest.raises(UserError) as info:
        load_settings(repo, env={})
    assert str(repo / ".autodev" / "config.toml") in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_tier_number_aliases_in_tiers_table(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config='provider = "scripted"\n[tiers]\n1 = "one"\n3 = "three"\n')
    assert load_settings(repo, env={}).tiers == {"fast": "one", "balanced": "scripted-balanced", "deep": "three"}


# --- --model flags -----------------------------------------------------------------------------------


def test_model_flags_parse() -> None:
    assert parse_model_flags(("fast=m1", " Deep = m3 ", "2=m2", "balanced=a=b")) == {
        "fast": "m1",
        "deep": "m3",
        "balanced": "a=b",
    }
    assert parse_model_flags(()) == {}


@pytest.mark.parametrize("flag", ["fast", "fast=", "turbo=m", "=m", "fast=  "])
def test_bad_model_flags(flag: str) -> None:
    with pytest.raises(UserError) as info:
        parse_model_flags((flag,))
    assert "--model" in str(info.value)
    assert "TIER=MODEL_ID" in str(info.value)


def test_bad_model_flag_through_load_settings(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--model"):
        load_settings(make_project(tmp_path), CliOverrides(models=("opus",)), env={"ANTHROPIC_API_KEY": "k"})


# --- resolve_model -----------------------------------------------------------------------------------


def test_frontmatter_tier_wins_over_model_alias(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"ANTHROPIC_API_KEY": "k"})
    resolved = resolve_model(spec(model="opus", tier="fast"), settings)
    assert (resolved.tier, resolved.model_id) == ("fast", "claude-haiku-5-5")
    assert "frontmatter tier" in resolved.source
    assert "default for anthropic" in resolved.source


def test_model_alias_without_tier(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"OPENAI_API_KEY": "k"})
    resolved = resolve_model(spec(model="opus"), settings)
    assert (resolved.tier, resolved.model_id) == ("deep", "gpt-5")
    assert "frontmatter model: opus" in resolved.source


def test_inherit_means_balanced(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"ANTHROPIC_API_KEY": "k"})
    resolved = resolve_model(spec(model="inherit"), settings)
    assert (resolved.tier, resolved.model_id) == ("balanced", "claude-sonnet-5-5")
    assert "inherit" in resolved.source


def test_full_model_id_passes_through(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={"ANTHROPIC_API_KEY": "k"})
    resolved = resolve_model(spec(model="claude-opus-4-1-20250805"), settings)
    assert resolved.model_id == "claude-opus-4-1-20250805"
    assert resolved.tier == "deep"
    assert resolved.source == "frontmatter model id"
    custom = resolve_model(spec(model="qwen2.5-coder:7b"), settings)
    assert (custom.tier, custom.model_id) == ("custom", "qwen2.5-coder:7b")


def test_config_agent_model_override(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config='[agents.reviewer]\nmodel = "claude-sonnet-9"\n')
    settings = load_settings(repo, env={"ANTHROPIC_API_KEY": "k"})
    resolved = resolve_model(spec("reviewer", model="haiku", tier="fast"), settings)
    assert (resolved.tier, resolved.model_id) == ("balanced", "claude-sonnet-9")
    assert "[agents.reviewer]" in resolved.source
    other = resolve_model(spec("planner", model="haiku"), settings)
    assert other.model_id == "claude-haiku-5-5"


def test_config_agent_model_alias_maps_to_the_tier(tmp_path: Path) -> None:
    """`model = "opus"` in [agents.X] means the deep tier's model, as it does in frontmatter."""
    repo = make_project(tmp_path, config='[agents.reviewer]\nmodel = "opus"\n')
    settings = load_settings(repo, env={"OPENAI_API_KEY": "k"})
    resolved = resolve_model(spec("reviewer", model="haiku", tier="fast"), settings)
    assert (resolved.tier, resolved.model_id) == ("deep", "gpt-5")
    assert "[agents.reviewer]" in resolved.source


def test_config_agent_tier_override(tmp_path: Path) -> None:
    repo = make_project(tmp_path, config='[agents.reviewer]\ntier = "3"\n[tiers]\ndeep = "big-model"\n')
    settings = load_settings(repo, env={"ANTHROPIC_API_KEY": "k"})
    resolved = resolve_model(spec("reviewer", model="haiku", tier="fast"), settings)
    assert (resolved.tier, resolved.model_id) == ("deep", "big-model")
    assert "[agents.reviewer] tier" in resolved.source
    assert str(repo / ".autodev" / "config.toml") in resolved.source


def test_tier_model_from_cli_shows_in_source(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), CliOverrides(models=("fast=tiny",)), env={"OPENAI_API_KEY": "k"})
    resolved = resolve_model(spec(tier="fast"), settings)
    assert resolved.model_id == "tiny"
    assert resolved.source == "frontmatter tier; fast -> --model"


def test_no_provider_resolves_tier_without_model(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), env={})
    resolved = resolve_model(spec(tier="deep"), settings)
    assert (resolved.tier, resolved.model_id) == ("deep", None)
    assert "no provider" in resolved.source


def test_builtin_agents_resolve_to_their_design_tiers(tmp_path: Path) -> None:
    settings = load_settings(make_project(tmp_path), CliOverrides(provider="scripted"), env={})
    resolved = {name: resolve_model(s, settings).model_id for name, s in load_agents(None).items()}
    assert resolved == {
        "researcher-local": "scripted-fast",
        "reviewer": "scripted-fast",
        "doc-master": "scripted-fast",
        "researcher-web": "scripted-balanced",
        "planner": "scripted-balanced",
        "test-master": "scripted-balanced",
        "implementer": "scripted-balanced",
        "issue-creator": "scripted-balanced",
        "security-auditor": "scripted-deep",
    }
