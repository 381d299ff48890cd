"""The resolved settings, merged from every layer in one place with each value's source known.

Precedence, lowest first: built-in defaults, the provider an API key variable points at, the
user-level `~/.config/autodev/config.toml` (honouring `XDG_CONFIG_HOME`), the repository's
`.autodev/config.toml` or `pyproject.toml [tool.autodev]`, the environment (`AUTODEV_*`), the
command-line flags. The keys are declared once, in `autodev.config.schema`; the layers are read in
`autodev.config.sources`. `autodev config show` prints every value and its source; `autodev agents`
shows the model each agent will get and where that choice came from.

The repository's keys that widen what executes or where the API key goes (`test_command`,
`bash_allow`, `write_scopes`, `sandbox`, `base_url`) count only once the user approved them with
`autodev trust` (`autodev.config.trust`); until then they are left out here, and
`Settings.ignored_notes()` says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from autodev.agent.specs import MODEL_ALIASES, TIERS, AgentSpec
from autodev.config.schema import AgentOverride, ConfigKeys, TemporalConfig, key_info
from autodev.config.sources import (
    CONFIG_HINT,
    CliOverrides,
    Sourced,
    detected_layer,
    env_layer,
    flag_layer,
    parse_model_flags,
    repo_layer,
    user_layer,
)
from autodev.config.trust import TrustCheck, check_trust, without_widening
from autodev.core.errors import UserError
from autodev.models.registry import REGISTRY, get_profile, provider_names

__all__ = [
    "DEFAULT_TIER_MODELS",
    "NO_PROVIDER_HINT",
    "PROVIDERS",
    "AgentOverride",
    "CliOverrides",
    "ResolvedModel",
    "Settings",
    "TemporalConfig",
    "load_settings",
    "parse_model_flags",
    "resolve_model",
]

PROVIDERS: tuple[str, ...] = provider_names()
DEFAULT_TIER_MODELS: dict[str, dict[str, str]] = {p.name: dict(p.default_tiers) for p in REGISTRY}
NO_OVERRIDES = CliOverrides()

NO_PROVIDER_HINT = (
    "configure a provider in one of three ways: set ANTHROPIC_API_KEY (Anthropic) or OPENAI_API_KEY / "
    "OPENAI_BASE_URL (OpenAI or a local Ollama, vLLM, llama.cpp or LM Studio server); put "
    'provider = "..." in .autodev/config.toml; or pass --provider. To see the pipeline work with no '
    "key at all, run `autodev demo`."
)


class Settings(ConfigKeys):
    """Every key's value for one repository (or none), and `sources`: where each non-default value came from.

    `sources` is keyed like the layers (`max_parallel`, `tiers.fast`, `write_scopes.implementer`);
    a key it does not name has its built-in default. `provider` always has a source
    (`none configured` when nothing names one).
    """

    repo: Path | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    trust: TrustCheck | None = None  # the repository's widening settings and whether they are approved

    def ignored_notes(self) -> list[str]:
        """One line per repository setting, agent or skill left out because it is not approved (docs/config.md)."""
        return self.trust.notes() if self.trust is not None else []

    def untrusted_files(self) -> frozenset[Path]:
        """The repository's agent and skill files to leave out: pass to `load_agents` and `load_skills`."""
        return self.trust.ignored_files() if self.trust is not None else frozenset()

    def approved_digest(self) -> str | None:
        """The digest of the approved widening settings in use, for a worker that prepares from a clone."""
        return self.trust.digest if self.trust is not None and self.trust.status == "trusted" else None

    def require_provider(self) -> str:
        if self.provider is None:
            raise UserError("no model provider is configured", hint=NO_PROVIDER_HINT)
        return self.provider

    def source_of(self, key: str) -> str:
        return self.sources.get(key, "default")


def _winners(layers: list[list[Sourced]]) -> dict[str, Sourced]:
    """Later layers win, key by key (and entry by entry in a table merged per entry)."""
    chosen: dict[str, Sourced] = {}
    for layer in layers:
        for item in layer:
            chosen[item.key] = item
    return chosen


def _assemble(chosen: Mapping[str, Sourced]) -> dict[str, Any]:
    """Keyword arguments for `Settings`: a table's entries land on its built-in default."""
    values: dict[str, Any] = {}
    for key, item in chosen.items():
        name, _, entry = key.partition(".")
        if entry:
            values.setdefault(name, dict(key_info(name).get_default(call_default_factory=True)))[entry] = item.value
        else:
            values[name] = item.value
    return values


def _provider_tiers(provider: str | None, tiers: dict[str, str], sources: dict[str, str]) -> dict[str, str]:
    """The configured tiers, each missing one served by the provider's default model for it."""
    out: dict[str, str] = {}
    for tier in TIERS:
        if tier in tiers:
            out[tier] = tiers[tier]
        elif provider is not None:
            out[tier] = get_profile(provider).default_tiers[tier]
            sources[f"tiers.{tier}"] = f"default for {provider}"
    return out


def load_settings(
    repo: Path | None,
    cli: CliOverrides = NO_OVERRIDES,
    env: Mapping[str, str] | None = None,
    *,
    approved_digest: str | None = None,
) -> Settings:
    """`approved_digest`: see `autodev.config.trust.check_trust` (only a Temporal worker passes one)."""
    env = os.environ if env is None else env
    repo_values = repo_layer(repo)
    trust = check_trust(repo, repo_values, approved_digest) if repo is not None else None
    if trust is not None and not trust.trusted:  # what widens falls back to the layer below
        repo_values = [kept for item in repo_values if (kept := without_widening(item)) is not None]
    chosen = _winners([detected_layer(env), user_layer(), repo_values, env_layer(env), flag_layer(cli)])
    sources = {key: item.source for key, item in chosen.items()}
    provider = chosen["provider"].value if "provider" in chosen else None
    if provider is not None and provider not in PROVIDERS:  # files are checked as read; a variable only here
        raise UserError(
            f"unknown provider {provider!r} (from {sources['provider']}); use one of {', '.join(PROVIDERS)}"
        )
    sources.setdefault("provider", "none configured")
    values = _assemble(chosen)
    values["tiers"] = _provider_tiers(provider, values.get("tiers", {}), sources)
    try:
        return Settings(repo=repo, sources=sources, trust=trust, **values)
    except ValidationError as exc:  # a value from the environment or a flag, checked only here
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "(top)"
        where = sources.get(key, "the configuration")
        message = str(error["msg"]).removeprefix("Value error, ")
        raise UserError(f"{key} (from {where}): {message}", hint=CONFIG_HINT) from None


# ---------------------------------------------------------------- tier -> model
@dataclass(frozen=True)
class ResolvedModel:
    tier: str  # fast | balanced | deep | custom
    model_id: str | None  # None when no provider is configured yet
    source: str


def _tier_of_model_id(model_id: str) -> str:
    lowered = model_id.lower()
    for alias, tier in MODEL_ALIASES.items():
        if alias in lowered:
            return tier
    return "custom"


def resolve_model(spec: AgentSpec, settings: Settings) -> ResolvedModel:
    """The tier and model id that will serve `spec`, and why."""
    override = settings.agents.get(spec.name)
    if override is not None and override.model and override.model.lower() in MODEL_ALIASES:
        alias = override.model.lower()  # an alias names a tier, as in frontmatter; never sent as a model id
        tier, why = MODEL_ALIASES[alias], f"config [agents.{spec.name}] model: {alias}"
    elif override is not None and override.model:
        return ResolvedModel(_tier_of_model_id(override.model), override.model, f"config [agents.{spec.name}]")
    elif override is not None and override.tier:
        tier, why = override.tier, f"config [agents.{spec.name}] tier"
    elif spec.tier is not None:
        tier, why = spec.tier, "frontmatter tier"
    elif spec.model in MODEL_ALIASES:
        tier, why = MODEL_ALIASES[spec.model], f"frontmatter model: {spec.model}"
    elif spec.model == "inherit":
        tier, why = "balanced", "model: inherit (balanced)"
    else:
        return ResolvedModel(_tier_of_model_id(spec.model), spec.model, "frontmatter model id")
    model_id = settings.tiers.get(tier)
    source = settings.sources.get(f"tiers.{tier}", "no provider")
    return ResolvedModel(tier, model_id, f"{why}; {tier} -> {source}")
