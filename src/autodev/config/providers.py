"""Choosing and assembling the `ModelProvider` for a run from settings.

The registry (`autodev.models.registry`) knows how to build each provider and what it can do; this
module hands it the settings' values. Every model a run uses is the provider's adapter wrapped in the
run's shared limiter and a retry policy: `RetryingModel(LimitedModel(adapter))`, so each attempt
passes the limiter and a 429 pauses every agent, not just the one that hit it. Credentials come from
the SDKs' usual variables and are never written anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio

from autodev.config.settings import Settings
from autodev.models import Model, ModelProvider, ProviderWrapper
from autodev.models.registry import Capabilities, ProviderOptions, get_profile
from autodev.models.resilience import LimitedModel, ProviderLimiter, RetryingModel, RetryPolicy, Sleep


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
