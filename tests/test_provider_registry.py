"""The provider registry: names and their order, capability profiles (and that they agree with the built
providers), detection from API key variables, and finding a script's reply queue through any wrapper."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from autodev.config.providers import ResilientProvider, base_provider, build_provider, capabilities
from autodev.config.settings import DEFAULT_TIER_MODELS, PROVIDERS, Settings
from autodev.core.errors import UserError
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.registry import (
    REGISTRY,
    Capabilities,
    ProviderOptions,
    detect_provider,
    get_profile,
    provider_names,
    replay_queue,
)
from autodev.models.resilience import ProviderLimiter
from autodev.run.plan import provider_web_search

CREDENTIALS = {"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test"}


def script_file(tmp_path: Path, web_search: bool) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"version": 1, "web_search": web_search, "agents": {}}), encoding="utf-8")
    return path


def test_names_keep_their_order() -> None:
    """The order users see in `--provider`'s choices and in every 'use one of' message."""
    assert provider_names() == PROVIDERS == ("anthropic", "openai", "scripted")


def test_each_profile_has_a_model_for_every_tier() -> None:
    for profile in REGISTRY:
        assert set(profile.default_tiers) == {"fast", "balanced", "deep"}
        assert DEFAULT_TIER_MODELS[profile.name] == dict(profile.default_tiers)


@pytest.mark.parametrize(
    ("name", "web_search", "prompt_caching", "usage_reporting", "tool_call_format"),
    [
        ("anthropic", True, True, True, "anthropic-tool-use"),
        ("openai", False, True, True, "openai-function-calling"),
        ("scripted", False, False, True, "scripted"),
    ],
)
def test_capability_profiles(
    name: str, web_search: bool, prompt_caching: bool, usage_reporting: bool, tool_call_format: str
) -> None:
    expected = Capabilities(web_search, prompt_caching, usage_reporting, tool_call_format)  # type: ignore[arg-type]
    assert get_profile(name).capabilities == expected


@pytest.mark.parametrize("name", ["anthropic", "openai", "scripted"])
def test_the_profile_agrees_with_the_provider_it_builds(tmp_path: Path, name: str) -> None:
    options = ProviderOptions(script=script_file(tmp_path, web_search=False))
    provider = get_profile(name).build(options, CREDENTIALS)
    try:
        assert provider.name == name
        assert provider.web_search == get_profile(name).capabilities_for(options).web_search
    finally:
        close = getattr(provider, "aclose", None)
        if close is not None:
            anyio.run(close)


@pytest.mark.parametrize("web_search", [True, False])
def test_a_script_says_whether_it_searches_the_web(tmp_path: Path, web_search: bool) -> None:
    settings = Settings(provider="scripted", script=script_file(tmp_path, web_search))
    offered = capabilities(settings)
    assert offered is not None and offered.web_search is web_search
    assert provider_web_search(settings) is web_search


def test_a_missing_script_offers_no_web_search(tmp_path: Path) -> None:
    settings = Settings(provider="scripted", script=tmp_path / "later.yaml")
    assert provider_web_search(settings) is False


def test_no_provider_has_no_capabilities() -> None:
    assert capabilities(Settings()) is None
    assert provider_web_search(Settings()) is False
    assert provider_web_search(Settings(provider="anthropic")) is True


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}, ("anthropic", "env ANTHROPIC_API_KEY")),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, ("openai", "env OPENAI_API_KEY/OPENAI_BASE_URL")),
        ({"ANTHROPIC_API_KEY": "", "AUTODEV_SCRIPT": "x"}, None),
    ],
)
def test_detection_follows_the_registry_order(env: dict[str, str], found: tuple[str, str] | None) -> None:
    detected = detect_provider(env)
    assert (None if detected is None else (detected[0].name, detected[1])) == found


def test_an_unknown_name_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown provider 'gemini'; use one of anthropic, openai, scripted"):
        get_profile("gemini")


def test_factories_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs a script of replies"):
        base_provider(Settings(provider="scripted"), env={})
    with pytest.raises(UserError, match="needs ANTHROPIC_API_KEY"):
        base_provider(Settings(provider="anthropic"), env={})


def test_base_provider_is_unwrapped_and_build_provider_wraps_it(tmp_path: Path) -> None:
    settings = Settings(provider="scripted", script=script_file(tmp_path, web_search=True))
    assert isinstance(base_provider(settings, env={}), ScriptedProvider)
    built = build_provider(settings, env={})
    assert isinstance(built, ResilientProvider) and isinstance(built.inner, ScriptedProvider)
    assert built.web_search is True


def test_replay_queue_is_found_through_wrappers(tmp_path: Path) -> None:
    scripted = ScriptedProvider.from_file(script_file(tmp_path, web_search=False))
    wrapped = ResilientProvider(ResilientProvider(scripted, ProviderLimiter()), ProviderLimiter())
    assert replay_queue(wrapped) is scripted.queue
    assert replay_queue(scripted) is scripted.queue
    assert replay_queue(object()) is None
