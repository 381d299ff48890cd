"""Every configuration key, declared once: its type, its built-in default, its checks, where else it is set.

`ConfigKeys` validates a config file (unknown keys are errors: a typo should not be silently
ignored) and is the base of the resolved `Settings`, so a key added here is at once readable from
files, shown by `autodev config show`, and documented in one place (`docs/config.md`).

A field's `json_schema_extra` says how the other layers reach it: `env` names its `AUTODEV_*`
variable, `flag` its command-line option, and `per_entry` marks a table merged entry by entry across
layers (a repository's `[tiers] deep` leaves the user-level `[tiers] fast` in place) instead of
replaced as a whole.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo

from autodev.agent.specs import TIER_ALIASES, TIERS
from autodev.config.selection import SelectionConfig
from autodev.models.registry import provider_names
from autodev.tools.bash import DEFAULT_BASH_ALLOW

PER_ENTRY: JsonDict = {"per_entry": True}


def _check_relative_globs(patterns: list[str], where: str) -> list[str]:
    for pattern in patterns:
        unified = pattern.replace("\\", "/")
        if not pattern or unified.startswith("/") or ".." in unified.split("/") or pattern[1:2] == ":":
            raise ValueError(f"{where}: {pattern!r} must be a glob relative to the repository root")
    return patterns


def known_tier(value: str) -> str | None:
    """The tier a name or number means (`1`, `Fast`, `fast` -> `fast`), or None."""
    tier = TIER_ALIASES.get(str(value), str(value).lower())
    return tier if tier in TIERS else None


class AgentOverride(BaseModel):
    """`[agents.NAME]`: serve one agent with another tier, or a model id of its own."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    tier: str | None = None

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        if value is None:
            return None
        tier = known_tier(value)
        if tier is None:
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


SandboxMode = Literal["auto", "bubblewrap", "off"]


class SandboxConfig(BaseModel):
    """`[sandbox]`: the jail that executed code (the test gate, RunTests, Bash, analysers) runs in.

    `mode = "auto"` uses bubblewrap where it works and refuses to execute project code where it does
    not; `"off"` runs it unconfined, with a warning on every run. `sandbox = "off"` (a string) is short
    for `[sandbox] mode = "off"`. See docs/security.md.
    """

    model_config = ConfigDict(extra="forbid")
    mode: SandboxMode = "auto"
    network: bool = False  # executed code reaches the network (else: only its own loopback)
    env: list[str] = Field(default_factory=list)  # variable names passed on besides PATH, LANG, TERM, ...

    @field_validator("env")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or "=" in name or any(c.isspace() for c in name):
                raise ValueError(f"{name!r}: list variable names (such as 'DATABASE_URL'), not assignments")
        return value


class ConfigKeys(BaseModel):
    """What a config file may say, with the built-in defaults. See docs/config.md for each key."""

    model_config = ConfigDict(extra="forbid")

    # the model provider and its models
    provider: str | None = Field(default=None, json_schema_extra={"env": "AUTODEV_PROVIDER", "flag": "--provider"})
    base_url: str | None = Field(default=None, json_schema_extra={"env": "AUTODEV_BASE_URL"})
    script: Path | None = Field(default=None, json_schema_extra={"env": "AUTODEV_SCRIPT", "flag": "--script"})
    tiers: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra={"env": "AUTODEV_MODEL_<TIER>", "flag": "--model TIER=ID", **PER_ENTRY},
    )
    agents: dict[str, AgentOverride] = Field(default_factory=dict, json_schema_extra=PER_ENTRY)
    prices: dict[str, dict[str, float]] = Field(default_factory=dict, json_schema_extra=PER_ENTRY)
    # the run
    max_parallel: int = Field(
        default=4, ge=1, json_schema_extra={"env": "AUTODEV_MAX_PARALLEL", "flag": "--max-parallel"}
    )
    budget_tokens: int = Field(default=8000, ge=1)
    max_tokens: int = Field(default=8192, ge=1)
    pipeline: dict[str, list[str]] | None = None
    selection: SelectionConfig | None = None  # [selection]: skip policy per change type (autodev.run.selection)
    time_budgets: dict[str, float] = Field(default_factory=dict, json_schema_extra=PER_ENTRY)  # agent -> seconds
    max_cost_usd: float | None = Field(  # a hard cap, checked before every model call (models.cost_cap)
        default=None, gt=0, json_schema_extra={"env": "AUTODEV_MAX_COST_USD", "flag": "--max-cost"}
    )
    # the test gate
    test_command: list[str] | None = None  # a string is split like a shell would
    test_timeout_s: float = Field(default=600.0, gt=0)
    max_test_retries: int = Field(default=2, ge=0)
    max_remediation_cycles: int = Field(default=2, ge=0)
    # requests to the provider
    request_timeout_s: float = Field(default=600.0, gt=0)
    max_attempts: int = Field(default=4, ge=1)
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    # the agents' tools
    bash_allow: list[str] = Field(default_factory=lambda: list(DEFAULT_BASH_ALLOW))
    bash_timeout_s: float = Field(default=60.0, gt=0)
    write_scopes: dict[str, list[str]] = Field(default_factory=dict, json_schema_extra=PER_ENTRY)  # else: agent files
    sandbox: SandboxConfig = Field(
        default_factory=SandboxConfig, json_schema_extra={"env": "AUTODEV_SANDBOX", "flag": "--sandbox"}
    )
    # observability and engines
    otel: bool | None = Field(default=None, json_schema_extra={"env": "AUTODEV_OTEL"})  # needs the `otel` extra
    temporal: TemporalConfig | None = None  # [temporal]: batch runs on Temporal (autodev.engines.temporal)

    @field_validator("test_command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("sandbox", mode="before")
    @classmethod
    def _sandbox_shorthand(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value

    @field_validator("bash_allow")
    @classmethod
    def _program_names(cls, value: list[str]) -> list[str]:
        for name in value:
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
        if value is not None and value not in provider_names():
            raise ValueError(f"unknown provider {value!r}; use one of {', '.join(provider_names())}")
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


def key_info(name: str) -> FieldInfo:
    return ConfigKeys.model_fields[name]


def extra(name: str, what: str) -> Any:
    """A key's `env`, `flag` or `per_entry` (None when it has none)."""
    info = key_info(name).json_schema_extra
    return info.get(what) if isinstance(info, dict) else None


def per_entry(name: str) -> bool:
    return bool(extra(name, "per_entry"))


KEYS: tuple[str, ...] = tuple(ConfigKeys.model_fields)
