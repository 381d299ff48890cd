"""The model providers autodev knows, each with how to build it and what it can do.

Everything that used to ask "is this the anthropic provider?" asks the profile instead: whether it
searches the web server-side, marks prompts for caching, reports usage, and which tool-call format
its API speaks. A profile also carries its default model per tier and the environment variables that
pick it when no provider is configured. The registry takes plain values (`ProviderOptions`), never
the settings: this floor sits below the configuration.

The order of `REGISTRY` is the order users see (`--provider` choices, error messages) and the order
of detection: `ANTHROPIC_API_KEY` wins over `OPENAI_API_KEY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autodev.core.errors import UserError
from autodev.models import ModelProvider
from autodev.models.fakes.scripted import Script, ScriptedProvider, ScriptQueue

ToolCallFormat = Literal["anthropic-tool-use", "openai-function-calling", "scripted"]


@dataclass(frozen=True)
class ProviderOptions:
    """What a provider's factory needs from the configuration (credentials come from `env`)."""

    base_url: str | None = None
    script: Path | None = None  # the scripted provider's replies
    request_timeout_s: float = 600.0


@dataclass(frozen=True)
class Capabilities:
    """What a provider offers, known before it is built (nothing is called to find out)."""

    web_search: bool  # a server-side web search the model can run (researcher-web needs one)
    prompt_caching: bool  # a shared prompt prefix is read from a cache at a lower price
    usage_reporting: bool  # token usage comes from the provider; otherwise it is estimated offline
    tool_call_format: ToolCallFormat  # how tool calls travel in the provider's API


Factory = Callable[[ProviderOptions, Mapping[str, str]], ModelProvider]


@dataclass(frozen=True)
class ProviderProfile:
    name: str
    factory: Factory  # raises UserError when a credential or file it needs is missing
    capabilities: Capabilities
    default_tiers: Mapping[str, str]  # fast / balanced / deep -> model id
    detect_env: tuple[str, ...] = ()  # any of these set (non-empty) picks this provider
    probe: Callable[[ProviderOptions], Capabilities] | None = None  # capabilities that depend on the options

    def capabilities_for(self, options: ProviderOptions) -> Capabilities:
        return self.probe(options) if self.probe is not None else self.capabilities

    def build(self, options: ProviderOptions, env: Mapping[str, str]) -> ModelProvider:
        return self.factory(options, env)


# ---------------------------------------------------------------- factories
def _anthropic(options: ProviderOptions, env: Mapping[str, str]) -> ModelProvider:
    from autodev.models.adapters.anthropic import AnthropicProvider  # the SDK loads only when used

    key = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
    base_url = options.base_url or env.get("ANTHROPIC_BASE_URL") or None
    if not key:
        raise UserError(
            "the anthropic provider needs ANTHROPIC_API_KEY",
            hint="export ANTHROPIC_API_KEY=... (or choose another provider; `autodev demo` needs no key)",
        )
    return AnthropicProvider(api_key=key, base_url=base_url, timeout_s=options.request_timeout_s)


def _openai(options: ProviderOptions, env: Mapping[str, str]) -> ModelProvider:
    from autodev.models.adapters.openai import OpenAIProvider

    key = env.get("OPENAI_API_KEY")
    base_url = options.base_url or env.get("OPENAI_BASE_URL") or None
    if not key and base_url is None:
        raise UserError(
            "the openai provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server",
            hint="export OPENAI_API_KEY=..., or OPENAI_BASE_URL=http://localhost:11434/v1 for Ollama",
        )
    return OpenAIProvider(api_key=key, base_url=base_url, timeout_s=options.request_timeout_s)


def _scripted(options: ProviderOptions, env: Mapping[str, str]) -> ModelProvider:
    if options.script is None:
        raise UserError(
            "the scripted provider needs a script of replies",
            hint='pass --script FILE (YAML), or set script = "..." in .autodev/config.toml',
        )
    return ScriptedProvider.from_file(options.script)


SCRIPTED = Capabilities(web_search=False, prompt_caching=False, usage_reporting=True, tool_call_format="scripted")


def _scripted_probe(options: ProviderOptions) -> Capabilities:
    """A script says whether it plays a provider with web search; a script not there yet has none."""
    if options.script is None or not options.script.is_file():
        return SCRIPTED
    return Capabilities(
        web_search=Script.load(options.script).web_search,
        prompt_caching=SCRIPTED.prompt_caching,
        usage_reporting=SCRIPTED.usage_reporting,
        tool_call_format=SCRIPTED.tool_call_format,
    )


REGISTRY: tuple[ProviderProfile, ...] = (
    ProviderProfile(
        name="anthropic",
        factory=_anthropic,
        capabilities=Capabilities(
            web_search=True, prompt_caching=True, usage_reporting=True, tool_call_format="anthropic-tool-use"
        ),
        default_tiers={"fast": "claude-haiku-5-5", "balanced": "claude-sonnet-5-5", "deep": "claude-opus-5-5"},
        detect_env=("ANTHROPIC_API_KEY",),
    ),
    ProviderProfile(
        name="openai",
        factory=_openai,
        capabilities=Capabilities(  # caching is automatic on the official API; local servers may report no usage
            web_search=False, prompt_caching=True, usage_reporting=True, tool_call_format="openai-function-calling"
        ),
        default_tiers={"fast": "gpt-5-nano", "balanced": "gpt-5-mini", "deep": "gpt-5"},
        detect_env=("OPENAI_API_KEY", "OPENAI_BASE_URL"),
    ),
    ProviderProfile(
        name="scripted",
        factory=_scripted,
        capabilities=SCRIPTED,
        default_tiers={"fast": "scripted-fast", "balanced": "scripted-balanced", "deep": "scripted-deep"},
        probe=_scripted_probe,
    ),
)


def provider_names() -> tuple[str, ...]:
    return tuple(profile.name for profile in REGISTRY)


def get_profile(name: str) -> ProviderProfile:
    for profile in REGISTRY:
        if profile.name == name:
            return profile
    raise UserError(f"unknown provider {name!r}; use one of {', '.join(provider_names())}")


def detect_provider(env: Mapping[str, str]) -> tuple[ProviderProfile, str] | None:
    """The first provider whose variables are set, and which variables those are (`env A/B`)."""
    for profile in REGISTRY:
        if any(env.get(name) for name in profile.detect_env):
            return profile, "env " + "/".join(profile.detect_env)
    return None


def unwrapped(provider: object) -> Iterator[object]:
    """`provider`, then what it wraps (`inner`), and so on: wrappers add limits, retries or logs."""
    for _ in range(16):  # wrappers never nest this deep; a cycle must not hang
        yield provider
        inner = getattr(provider, "inner", None)
        if inner is None:
            return
        provider = inner


def replay_queue(provider: object) -> ScriptQueue | None:
    """The reply queue of a provider that replays a script by position, however it is wrapped."""
    for layer in unwrapped(provider):
        if isinstance(layer, ScriptedProvider):
            return layer.queue
    return None
