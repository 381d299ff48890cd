"""Choosing and assembling the `ModelProvider` for a run from settings.

The registry (`autodev.models.registry`) knows how to build each provider and what it can do; this
module hands it the settings' values. Every model a run uses is the provider's adapter wrapped in the
run's shared limiter and a retry policy: `RetryingModel(LimitedModel(adapter))`, so each attempt
passes the limiter and a 429 pauses every agent, not just the one that hit it. Credentials come from
the SDKs' usual variables and are never written anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import anyio

from autodev.agent.specs import TIERS
from autodev.config.settings import Settings
from autodev.core.errors import UserError
from autodev.core.redact import redact
from autodev.models import Model, ModelProvider, ProviderWrapper
from autodev.models.registry import Capabilities, ProviderOptions, get_profile
from autodev.models.resilience import LimitedModel, ProviderLimiter, RetryingModel, RetryPolicy, Sleep
from autodev.models.server_info import (
    BASE_URL_VARIABLES,
    ServerModels,
    api_key,
    effective_base_url,
    is_official,
    list_models,
)


@dataclass
class ResilientProvider(ProviderWrapper):
    """Wraps a provider's models in the run's limiter and retry policy (`sleep` waits between attempts)."""

    limiter: ProviderLimiter
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = anyio.sleep

    def wrap(self, model: Model) -> Model:
        return RetryingModel(LimitedModel(model, self.limiter), self.policy, self.sleep)


def provider_options(settings: Settings) -> ProviderOptions:
    """The plain values a provider's factory takes from the settings."""
    return ProviderOptions(
        base_url=settings.base_url, script=settings.script, request_timeout_s=settings.request_timeout_s
    )


def capabilities(settings: Settings) -> Capabilities | None:
    """What the configured provider offers, without building it (None: no provider configured)."""
    if settings.provider is None:
        return None
    return get_profile(settings.provider).capabilities_for(provider_options(settings))


def base_provider(settings: Settings, env: Mapping[str, str] | None = None) -> ModelProvider:
    """The configured provider as its factory builds it, with no limiter or retries around it."""
    profile = get_profile(settings.require_provider())
    return profile.build(provider_options(settings), os.environ if env is None else env)


def limiter_for(settings: Settings) -> ProviderLimiter:
    return ProviderLimiter(
        max_concurrent=settings.max_concurrent_requests,
        requests_per_minute=settings.requests_per_minute,
        tokens_per_minute=settings.tokens_per_minute,
    )


def wrap(provider: ModelProvider, settings: Settings) -> ResilientProvider:
    if isinstance(provider, ResilientProvider):
        return provider
    return ResilientProvider(provider, limiter_for(settings), RetryPolicy(max_attempts=settings.max_attempts))


def build_provider(settings: Settings, env: Mapping[str, str] | None = None) -> ResilientProvider:
    return wrap(base_provider(settings, env), settings)


def local_server(settings: Settings, env: Mapping[str, str] | None = None) -> str | None:
    """The base URL when requests go to a server that is not the provider's own API (None: they do not,
    or the provider needs a key it has not got, the first thing to fix, said when it is built)."""
    provider = settings.provider
    if provider is None or provider == "scripted":
        return None
    env = os.environ if env is None else env
    base_url = effective_base_url(provider, settings.base_url, env)
    if is_official(provider, base_url) or (provider == "anthropic" and api_key(provider, env) is None):
        return None
    return base_url


def unnamed_tiers(
    settings: Settings, tiers_used: Iterable[str], env: Mapping[str, str] | None = None
) -> tuple[list[str], ServerModels | None]:
    """The tiers `tiers_used` leaves at the provider's default although a local server serves the requests,
    and what that server lists (None: no local server, or every tier named)."""
    base_url = local_server(settings, env)
    if base_url is None:
        return [], None
    defaulted = sorted(
        {tier for tier in tiers_used if settings.source_of(f"tiers.{tier}").startswith("default for")},
        key=TIERS.index,
    )
    if not defaulted:
        return [], None
    provider = settings.require_provider()
    listed = list_models(provider, base_url, api_key(provider, os.environ if env is None else env))
    if listed.models and all(settings.tiers[tier] in listed.models for tier in defaulted):
        return [], listed  # a proxy that serves the provider's own models under their own names
    return defaulted, listed


def require_named_tiers(settings: Settings, tiers_used: Iterable[str], env: Mapping[str, str] | None = None) -> None:
    """A server that is not the provider's own API must be told which of its models serve each tier.

    The provider's defaults (gpt-5-nano, claude-haiku-...) name models of the official API; an Ollama,
    vLLM, llama.cpp or LM Studio server serves other names, and would answer every request with a 404
    (or, worse, with whatever model it maps unknown names to). So a run stops before it starts, listing
    the server's models (`GET /v1/models`) and the lines to add. `tiers_used`: the tiers the pipeline's
    agents use (a tier no agent uses need not be named)."""
    defaulted, listed = unnamed_tiers(settings, tiers_used, env)
    if not defaulted or listed is None:
        return
    provider, base_url = settings.require_provider(), local_server(settings, env) or ""
    examples = list(listed.models) or ["MODEL"]
    lines = "".join(f'\n    {tier} = "{examples[min(i, len(examples) - 1)]}"' for i, tier in enumerate(defaulted))
    named = (
        f"base_url {redact(base_url)} (from {settings.source_of('base_url')})"
        if settings.base_url
        else (f"{BASE_URL_VARIABLES[provider]}={redact(base_url)}")
    )
    guesses = ", ".join(settings.tiers[tier] for tier in defaulted)
    raise UserError(
        f"{named} is not {provider}'s own API, so [tiers] must name the server's models for "
        f"{', '.join(defaulted)} (not {provider}'s defaults {guesses}); {listed.describe()}",
        hint="add to .autodev/config.toml (or ~/.config/autodev/config.toml), naming models that call tools:"
        f"\n    [tiers]{lines}\n  or set AUTODEV_MODEL_{defaulted[0].upper()}=... / pass --model "
        f"{defaulted[0]}=...; see docs/local-models.md",
    )
