"""Layered settings and tier -> model resolution, merged in one place with each value's source known.

Precedence, lowest first: built-in defaults, `<repo>/pyproject.toml [tool.autodev]` or
`<repo>/.autodev/config.toml`, environment (`AUTODEV_*`), command-line flags. `autodev agents` shows
the model each agent will get and where that choice came from.
"""

from __future__ import annotations

import os
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autodev.agent.specs import MODEL_ALIASES, TIER_ALIASES, TIERS, AgentSpec
from autodev.config.selection import SelectionConfig
from autodev.core.errors import UserError
from autodev.tools.bash import DEFAULT_BASH_ALLOW

PROVIDERS: tuple[str, ...] = ("anthropic", "openai", "scripted")

DEFAULT_TIER_MODELS: dict[str, dict[str, str]] = {
    "anthropic": {"fast": "claude-haiku-5-5", "balanced": "claude-sonnet-5-5", "deep": "claude-opus-5-5"},
    "openai": {"fast": "gpt-5-nano", "balanced": "gpt-5-mini", "deep": "gpt-5"},
    "scripted": {"fast": "scripted-fast", "balanced": "scripted-balanced", "deep": "scripted-deep"},
}


def _check_relative_globs(patterns: list[str], where: str) -> list[str]:
    for pattern in patterns:
        unified = pattern.replace("\\", "/")
        if not pattern or unified.startswith("/") or ".." in unified.split("/") or pattern[1:2] == ":":
            raise ValueError(f"{where}: {pattern!r} must be a glob relative to the repository root")
    return patterns


NO_PROVIDER_HINT = (
    "configure a provider in one of three ways: set ANTHROPIC_API_KEY (Anthropic) or OPENAI_API_KEY / "
    "OPENAI_BASE_URL (OpenAI or a local Ollama, vLLM, llama.cpp or LM Studio server); put "
    'provider = "..." in .autodev/config.toml; or pass --provider. To see the pipeline work with no '
    "key at all, run `autodev demo`."
)


class AgentOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    tier: str | None = None

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        if value is None:
            return None
        tier = TIER_ALIASES.get(str(value), str(value).lower())
        if tier not in TIERS:
            raise ValueError(f"unknown tier {value!r}; use fast, balanced or deep")
        return tier


class TemporalConfig(BaseModel):
    """`[temporal]`: where batch runs go with `--engine temporal` and what every worker shares.

    Only `autodev batch --engine temporal`, `autodev status` and `autodev worker` read it; the extra
    `autonomous-dev[temporal]` brings the SDK. Rates here hold for all workers together.
    """

    model_config = ConfigDict(extra="forbid")
    address: str | None = None  # host:port of the Temporal frontend (default localhost:7233)
    namespace: str | None = None  # default "default"
    task_queue: str | None = None  # default "autodev"
    remote: str | None = None  # git URL or path every worker can reach (default: the repository itself)
    requests_per_minute: int | None = Field(default=None, ge=1)  # model requests, all workers together
    tokens_per_minute: int | None = Field(default=None, ge=1)
    burst: int | None = Field(default=None, ge=1)  # requests let through at once (default: a minute's worth)
    heartbeat_timeout_s: float | None = Field(default=None, gt=0)  # a silent worker counts as dead after this


class FileConfig(BaseModel):
    """What a config file may say. Unknown keys are errors: a typo should not be silently ignored."""

    model_config = ConfigDict(extra="forbid")
    provider: str | None = None
    base_url: str | None = None
    script: str | None = None
    max_parallel: int | None = Field(default=None, ge=1)
    budget_tokens: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    test_command: str | list[str] | None = None
    test_timeout_s: float | None = Field(default=None, gt=0)
    max_test_retries: int | None = Field(default=None, ge=0)
    max_remediation_cycles: int | None = Field(default=None, ge=0)
    request_timeout_s: float | None = Field(default=None, gt=0)
    max_attempts: int | None = Field(default=None, ge=1)
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    time_budgets: dict[str, float] = Field(default_factory=dict)  # agent -> seconds, for report bottlenecks
    tiers: dict[str, str] = Field(default_factory=dict)
    agents: dict[str, AgentOverride] = Field(default_factory=dict)
    pipeline: dict[str, list[str]] | None = None
    bash_allow: list[str] | None = None
    bash_timeout_s: float | None = Field(default=None, gt=0)
    write_scopes: dict[str, list[str]] = Field(default_factory=dict)
    otel: bool | None = None  # OpenTelemetry spans (needs the `otel` extra)
    selection: SelectionConfig | None = None  # [selection]: skip policy per change type (autodev.run.selection.policy)
    temporal: TemporalConfig | None = None  # [temporal]: batch runs on Temporal (autodev.engines.temporal)

    @field_validator("bash_allow")
    @classmethod
    def _program_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or ():
            if not name or "/" in name or "\\" in name or name != name.strip() or " " in name:
                raise ValueError(f"{name!r}: list program names (such as 'git'), not paths or commands")
        return value

    @field_validator("write_scopes")
    @classmethod
    def _relative_scopes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for agent, patterns in value.items():
            _check_relative_globs(patterns, f"write_scopes.{agent}")
        return value

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        if value is not None and value not in PROVIDERS:
            raise ValueError(f"unknown provider {value!r}; use one of {', '.join(PROVIDERS)}")
        return value

    @field_validator("tiers")
    @classmethod
    def _known_tiers(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for key, model in value.items():
            tier = TIER_ALIASES.get(key, key)
            if tier not in TIERS:
                raise ValueError(f"unknown tier {key!r} in [tiers]; use fast, balanced or deep")
            out[tier] = model
        return out


@dataclass(frozen=True)
class CliOverrides:
    provider: str | None = None
    models: tuple[str, ...] = ()  # "TIER=ID"
    max_parallel: int | None = None
    script: str | None = None


@dataclass
class Settings:
    repo: Path | None
    provider: str | None
    base_url: str | None = None
    script: Path | None = None
    max_parallel: int = 4
    budget_tokens: int = 8000
    max_tokens: int = 8192
    test_command: list[str] | None = None
    test_timeout_s: float = 600.0
    max_test_retries: int = 2
    max_remediation_cycles: int = 2
    request_timeout_s: float = 600.0
    max_attempts: int = 4
    max_concurrent_requests: int | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    time_budgets: dict[str, float] = field(default_factory=dict)
    tiers: dict[str, str] = field(default_factory=dict)
    agents: dict[str, AgentOverride] = field(default_factory=dict)
    pipeline: dict[str, list[str]] | None = None
    bash_allow: list[str] = field(default_factory=lambda: list(DEFAULT_BASH_ALLOW))
    bash_timeout_s: float = 60.0
    write_scopes: dict[str, list[str]] = field(default_factory=dict)  # config only; defaults: agent frontmatter
    otel: bool | None = None
    selection: SelectionConfig | None = None
    temporal: TemporalConfig | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def require_provider(self) -> str:
        if self.provider is None:
            raise UserError("no model provider is configured", hint=NO_PROVIDER_HINT)
        return self.provider


@dataclass(frozen=True)
class ResolvedModel:
    tier: str  # fast | balanced | deep | custom
    model_id: str | None  # None when no provider is configured yet
    source: str


def _read_file_config(repo: Path) -> tuple[FileConfig, str | None]:
    candidates = [repo / ".autodev" / "config.toml", repo / "pyproject.toml"]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: not valid TOML: {exc}") from exc
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("autodev")
            if data is None:
                continue
        try:
            return FileConfig.model_validate(data), str(path)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: "
                f"{'unknown key' if err['type'] == 'extra_forbidden' else err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            )
            raise UserError(f"{path}: invalid configuration: {problems}") from exc
    return FileConfig(), None


def parse_model_flags(flags: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for flag in flags:
        tier, sep, model_id = flag.partition("=")
        tier = TIER_ALIASES.get(tier.strip(), tier.strip().lower())
        if not sep or not model_id.strip() or tier not in TIERS:
            raise UserError(f"--model {flag!r}: expected TIER=MODEL_ID with TIER one of fast, balanced, deep")
        out[tier] = model_id.strip()
    return out


def _detect_provider(env: Mapping[str, str]) -> tuple[str | None, str]:
    if env.get("ANTHROPIC_API_KEY"):
        return "anthropic", "env ANTHROPIC_API_KEY"
    if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL"):
        return "openai", "env OPENAI_API_KEY/OPENAI_BASE_URL"
    return None, "none configured"


def _int_env(env: Mapping[str, str], key: str) -> int | None:
    raw = env.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{key}={raw!r} is not a whole number") from None
    if value < 1:
        raise UserError(f"{key} must be at least 1")
    return value


def _bool_env(env: Mapping[str, str], key: str) -> bool | None:
    raw = (env.get(key) or "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{key}={env[key]!r}: use 1 or 0 (true or false)")


def load_settings(
    repo: Path | None, cli: CliOverrides = CliOverrides(), env: Mapping[str, str] | None = None
) -> Settings:
    env = os.environ if env is None else env
    file_cfg, file_src = _read_file_config(repo) if repo is not None else (FileConfig(), None)
    src = file_src or "default"
    settings = Settings(repo=repo, provider=None)
    sources = settings.sources

    def layer(key: str, value: Any, source: str) -> None:
        if value is not None:
            setattr(settings, key, value)
            sources[key] = source

    for key in (
        "max_parallel",
        "budget_tokens",
        "max_tokens",
        "test_timeout_s",
        "max_test_retries",
        "max_remediation_cycles",
        "base_url",
        "pipeline",
        "request_timeout_s",
        "max_attempts",
        "max_concurrent_requests",
        "requests_per_minute",
        "tokens_per_minute",
        "bash_allow",
        "bash_timeout_s",
        "otel",
        "selection",
        "temporal",
    ):
        layer(key, getattr(file_cfg, key), src)
    for agent, patterns in file_cfg.write_scopes.items():
        settings.write_scopes[agent] = list(patterns)
        sources[f"write_scopes.{agent}"] = src
    if file_cfg.test_command is not None:
        command = file_cfg.test_command
        layer("test_command", shlex.split(command) if isinstance(command, str) else list(command), src)
    if file_cfg.script is not None and repo is not None:
        layer("script", (repo / file_cfg.script).resolve(), src)
    settings.agents = dict(file_cfg.agents)
    settings.prices = dict(file_cfg.prices)
    settings.time_budgets = dict(file_cfg.time_budgets)

    provider, provider_src = _detect_provider(env)
    if file_cfg.provider:
        provider, provider_src = file_cfg.provider, src
    if env.get("AUTODEV_PROVIDER"):
        provider, provider_src = env["AUTODEV_PROVIDER"], "env AUTODEV_PROVIDER"
    if cli.provider:
        provider, provider_src = cli.provider, "--provider"
    if provider is not None and provider not in PROVIDERS:
        raise UserError(f"unknown provider {provider!r} (from {provider_src}); use one of {', '.join(PROVIDERS)}")
    settings.provider = provider
    sources["provider"] = provider_src

    layer("base_url", env.get("AUTODEV_BASE_URL") or None, "env AUTODEV_BASE_URL")
    layer("max_parallel", _int_env(env, "AUTODEV_MAX_PARALLEL"), "env AUTODEV_MAX_PARALLEL")
    layer("max_parallel", cli.max_parallel, "--max-parallel")
    layer("otel", _bool_env(env, "AUTODEV_OTEL"), "env AUTODEV_OTEL")
    if env.get("AUTODEV_SCRIPT"):
        layer("script", Path(env["AUTODEV_SCRIPT"]).resolve(), "env AUTODEV_SCRIPT")
    if cli.script:
        layer("script", Path(cli.script).resolve(), "--script")

    tiers: dict[str, str] = {}
    for tier in TIERS:
        if provider is not None:
            tiers[tier] = DEFAULT_TIER_MODELS[provider][tier]
            sources[f"tiers.{tier}"] = f"default for {provider}"
        if tier in file_cfg.tiers:
            tiers[tier], sources[f"tiers.{tier}"] = file_cfg.tiers[tier], src
        env_key = f"AUTODEV_MODEL_{tier.upper()}"
        if env.get(env_key, "").strip():  # blank counts as unset, like empty
            tiers[tier], sources[f"tiers.{tier}"] = env[env_key], f"env {env_key}"
    for tier, model_id in parse_model_flags(cli.models).items():
        tiers[tier], sources[f"tiers.{tier}"] = model_id, "--model"
    settings.tiers = tiers
    return settings


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
