"""Choosing and assembling the `ModelProvider` for a run from settings.

Every model a run uses is the provider's adapter wrapped in the run's shared limiter and a retry
policy: `RetryingModel(LimitedModel(adapter))`, so each attempt passes the limiter and a 429 pauses
every agent, not just the one that hit it. Credentials come from the SDKs' usual variables and are
never written anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio

from autodev.config.settings import Settings
from autodev.core.errors import UserError
from autodev.models import Model, ModelProvider, ProviderWrapper
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.resilience import LimitedModel, ProviderLimiter, RetryingModel, RetryPolicy, Sleep


@dataclass
class ResilientProvider(ProviderWrapper):
    """Wraps a provider's models in the run's limiter and retry policy (`sleep` waits between attempts)."""

    limiter: ProviderLimiter
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = anyio.sleep

    def wrap(self, model: Model) -> Model:
        return RetryingModel(LimitedModel(model, self.limiter), self.policy, self.sleep)


def _base_provider(settings: Settings, env: Mapping[str, str]) -> ModelProvider:
    name = settings.require_provider()
    if name == "scripted":
        if settings.script is None:
            raise UserError(
                "the scripted provider needs a script of replies",
                hint='pass --script FILE (YAML), or set script = "..." in .autodev/config.toml',
            )
        return ScriptedProvider.from_file(settings.script)
    if name == "anthropic":
        from autodev.models.adapters.anthropic import AnthropicProvider

        key = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
        base_url = settings.base_url or env.get("ANTHROPIC_BASE_URL") or None
        if not key:
            raise UserError(
                "the anthropic provider needs ANTHROPIC_API_KEY",
                hint="export ANTHROPIC_API_KEY=... (or choose another provider; `autodev demo` needs no key)",
            )
        return AnthropicProvider(api_key=key, base_url=base_url, timeout_s=settings.request_timeout_s)
    from autodev.models.adapters.openai import OpenAIProvider

    key = env.get("OPENAI_API_KEY")
    base_url = settings.base_url or env.get("OPENAI_BASE_URL") or None
    if not key and base_url is None:
        raise UserError(
            "the openai provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server",
            hint="export OPENAI_API_KEY=..., or OPENAI_BASE_URL=http://localhost:11434/v1 for Ollama",
        )
    return OpenAIProvider(api_key=key, base_url=base_url, timeout_s=settings.request_timeout_s)


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
    return wrap(_base_provider(settings, os.environ if env is None else env), settings)
