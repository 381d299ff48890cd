"""`autodev doctor`'s provider lines: the key (or base URL) answers, and each model exists and calls tools.

One tiny request per distinct model, through the configured provider's own adapter (the SDK the runs
use, without retries: a doctor reports, it does not insist): a one-tool request asking the model to
call that tool. The first answer tells whether the key is accepted (401/403: refused) and whether the
server answers at all; each answer tells whether that model exists (404) and accepts tool definitions
(a 400 naming tools, or a reply that calls no tool).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from autodev.apps.setup.checks import Check, fail, ok
from autodev.config.providers import base_provider
from autodev.config.settings import NO_PROVIDER_HINT, Settings
from autodev.core.errors import UserError
from autodev.core.redact import redact
from autodev.models import (
    Message,
    ModelError,
    ModelProvider,
    ModelRequest,
    ProviderError,
    TextPart,
    ToolDefinition,
)
from autodev.models.pricing import load_price_table
from autodev.models.server_info import api_key, effective_base_url, is_official, learn_window

PROBE_TIMEOUT_S = 60.0
PROBE_TOOL = ToolDefinition("ready", "Report that you are ready.", {"type": "object", "properties": {}})
PROBE = ModelRequest(
    agent="doctor",
    system="You are checking that tool calls work. Answer only by calling the `ready` tool.",
    messages=(Message("user", (TextPart("Call the `ready` tool now."),)),),
    tools=(PROBE_TOOL,),
    max_tokens=1024,  # reasoning models spend some before the call; a probe uses a few dozen
)
KEY_REFUSED = (401, 403)


@dataclass(frozen=True)
class Probe:
    model_id: str
    users: str  # the tiers and agents it serves, for the line
    error: ModelError | None = None
    called_tool: bool = False


def where(settings: Settings) -> str:
    """The URL the requests went to: base_url, else the SDK's variable, else the provider's own."""
    variable = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}.get(settings.provider or "", "")
    return settings.base_url or os.environ.get(variable) or "the provider's default URL"


async def _probe_all(provider: ModelProvider, models: Mapping[str, str]) -> list[Probe]:
    probes = []
    try:
        for model_id, users in models.items():
            try:
                reply = await provider.model(model_id).complete(PROBE)
            except ModelError as exc:
                probes.append(Probe(model_id, users, exc))
                if isinstance(exc, ProviderError) and (exc.status in KEY_REFUSED or exc.status is None):
                    break  # the key or the server: every other model would say the same
                continue
            probes.append(Probe(model_id, users, called_tool=any(c.name == PROBE_TOOL.name for c in reply.tool_calls)))
    finally:
        close = getattr(provider, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()
    return probes


def _key_line(settings: Settings, probes: list[Probe]) -> Check:
    name = f"provider {settings.provider}"
    first = probes[0].error if probes else None
    if isinstance(first, ProviderError) and first.status in KEY_REFUSED:
        return fail(name, f"the key was refused ({redact(str(first))})", "set a valid key, then run autodev doctor")
    if isinstance(first, ProviderError) and first.status is None:
        return fail(
            name,
            f"no answer from {where(settings)} ({redact(str(first))})",
            "check the base URL (OPENAI_BASE_URL, ANTHROPIC_BASE_URL or base_url) and that the server is up",
        )
    source = settings.source_of("provider")
    return ok(name, f"answers at {where(settings)} (chosen by {source})")


def window_of(settings: Settings, model_id: str, env: Mapping[str, str] | None = None) -> tuple[int | None, str]:
    """The context window a run will fit `max_tokens` into, and where it comes from: the configuration
    (`[prices."MODEL"] context_window`) or the bundled table first, else what the server says."""
    configured = load_price_table(settings.prices).context_window(model_id)
    if configured is not None:
        return configured, "price table"
    env = os.environ if env is None else env
    provider = settings.provider or ""
    base_url = effective_base_url(provider, settings.base_url, env)
    if base_url is None or is_official(provider, base_url) or provider != "openai":
        return None, "unknown"
    learnt = learn_window(provider, base_url, model_id, api_key(provider, env))
    return (learnt.tokens, learnt.source) if learnt is not None else (None, "the server does not say")


def _window_text(settings: Settings, model_id: str) -> str:
    tokens, source = window_of(settings, model_id)
    if tokens is None:
        return f'context window unknown ({source}): set [prices."{model_id}"] context_window to fit max_tokens'
    text = f"context window {tokens:,} tokens ({source})"
    if settings.max_tokens * 2 > tokens:  # the prompt needs the larger part of the window
        return f"{text}; max_tokens {settings.max_tokens:,} is lowered per request to what the prompt leaves"
    return text


def _model_line(probe: Probe, settings: Settings) -> Check:
    name = f"model {probe.model_id} ({probe.users})"
    error = probe.error
    if error is None:
        if probe.called_tool:
            return ok(name, f"exists and calls tools; {_window_text(settings, probe.model_id)}")
        return fail(
            name,
            "answered without calling the tool it was asked to call",
            "serve this tier with a model that calls tools: [tiers] in .autodev/config.toml",
        )
    status = error.status if isinstance(error, ProviderError) else None
    text = redact(str(error))
    if status == 404:
        return fail(name, f"not found ({text})", "name a model this provider serves in [tiers] (or --model TIER=ID)")
    if status == 400 and "tool" in text.lower():
        return fail(name, f"does not accept tool calls ({text})", "serve this tier with a model that supports tools")
    return fail(name, text, "see the provider's error above")


def provider_checks(settings: Settings, models: Mapping[str, str]) -> list[Check]:
    """The key line, then one line per model (`models`: model id -> the tiers and agents it serves)."""
    if settings.provider is None:
        return [fail("provider", "none configured", NO_PROVIDER_HINT)]
    if settings.provider == "scripted":
        return [ok("provider scripted", f"replies from {settings.script} (nothing to call)")]
    try:
        provider = base_provider(settings.model_copy(update={"request_timeout_s": PROBE_TIMEOUT_S}))
    except UserError as exc:
        return [fail(f"provider {settings.provider}", exc.message, exc.hint or "")]
    probes = anyio.run(_probe_all, provider, models)
    key = _key_line(settings, probes)
    if key.status == "fail":
        unchecked = "not checked: the provider did not accept the request"
        return [key, *(fail(f"model {model} ({users})", unchecked) for model, users in models.items())]
    return [key, *(_model_line(probe, settings) for probe in probes)]
