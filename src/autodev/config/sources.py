"""The layers settings come from, each a list of values that know their source.

Lowest first: the provider detected from API key variables, the user-level file
(`$XDG_CONFIG_HOME/autodev/config.toml`, by default `~/.config/autodev/config.toml`), the
repository's file (`.autodev/config.toml`, else `pyproject.toml [tool.autodev]`), the environment
(`AUTODEV_*`) and the command-line flags. Built-in defaults sit below them all and are the schema's
own (`ConfigKeys`). Each layer only reads and validates; `load_settings` decides who wins.

A source is a label a user can act on: the file's path, `env AUTODEV_MAX_PARALLEL`, `--model`.
"""

from __future__ import annotations

import math
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autodev.agent.specs import TIER_ALIASES, TIERS, user_config_dir
from autodev.config.schema import KEYS, ConfigKeys, extra, key_info, per_entry
from autodev.core.errors import UserError
from autodev.models.registry import detect_provider


@dataclass(frozen=True)
class Sourced:
    """One value and where it came from. `key` is a key (`max_parallel`) or an entry of a table (`tiers.fast`)."""

    key: str
    value: Any
    source: str


@dataclass(frozen=True)
class CliOverrides:
    """The command line's say: the last and strongest layer."""

    provider: str | None = None
    models: tuple[str, ...] = ()  # "TIER=ID"
    max_parallel: int | None = None
    script: str | None = None
    sandbox: str | None = None  # --sandbox off|auto|bubblewrap
    max_cost: float | None = None  # --max-cost USD


def user_config_file() -> Path:
    """The user-level file, shared by every repository (honours XDG_CONFIG_HOME, like user-level agents)."""
    return user_config_dir() / "config.toml"


# ---------------------------------------------------------------- files
CONFIG_HINT = "see docs/config.md for every key and its type"
HINTS = {  # a key whose mistakes have a likely fix
    "test_command": 'close every quote as a shell would, or write a list: test_command = ["pytest", "-q"]',
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise UserError(
            f"{path}: not valid TOML: nested too deeply to read",
            hint="a config file holds keys, tables and short lists: see docs/config.md",
        ) from None


def _validate(data: Any, path: Path) -> ConfigKeys:
    try:
        return ConfigKeys.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: "
            f"{'unknown key' if err['type'] == 'extra_forbidden' else err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        keys = [str(err["loc"][0]) for err in exc.errors() if err["loc"]]
        hint = next((HINTS[key] for key in keys if key in HINTS), None)
        raise UserError(f"{path}: invalid configuration: {problems}", hint=hint) from exc


def _file_values(config: ConfigKeys, label: str, base: Path) -> Iterator[Sourced]:
    """The keys a file set (in the schema's order); a table merged entry by entry yields its entries."""
    for name in KEYS:
        if name not in config.model_fields_set:
            continue
        value = getattr(config, name)
        if per_entry(name):
            yield from (Sourced(f"{name}.{entry}", item, label) for entry, item in value.items())
        elif name == "script" and value is not None:
            yield Sourced(name, (base / value).resolve(), label)  # relative to the repository (or the user dir)
        else:
            yield Sourced(name, value, label)


def file_layer(path: Path, base: Path, section: tuple[str, ...] = ()) -> list[Sourced] | None:
    """The values of one config file, or None when it does not exist or lacks `section`."""
    if not path.is_file():
        if path.exists() or path.is_symlink():  # a directory, a FIFO, a dangling link: never silently ignored
            what = "a directory" if path.is_dir() else "not a regular file"
            raise UserError(
                f"{path} is {what}, so autodev cannot read its configuration from it",
                hint=f"make {path.name} a TOML file (or remove it)",
            )
        return None
    data: Any = _read_toml(path)
    for part in section:
        data = data.get(part) if isinstance(data, dict) else None
        if data is None:
            return None
    return list(_file_values(_validate(data, path), str(path), base))


def user_layer() -> list[Sourced]:
    directory = user_config_dir()
    return file_layer(directory / "config.toml", directory) or []


def repo_layer(repo: Path | None) -> list[Sourced]:
    """`.autodev/config.toml` if there is one, else `pyproject.toml [tool.autodev]`: one file, never both."""
    if repo is None:
        return []
    found = file_layer(repo / ".autodev" / "config.toml", repo)
    if found is None:
        found = file_layer(repo / "pyproject.toml", repo, ("tool", "autodev"))
    return found or []


# ---------------------------------------------------------------- environment
def detected_layer(env: Mapping[str, str]) -> list[Sourced]:
    """The provider an API key variable points at: weaker than any configuration that names one."""
    found = detect_provider(env)
    return [] if found is None else [Sourced("provider", found[0].name, found[1])]


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


def _float_env(env: Mapping[str, str], key: str) -> float | None:
    raw = (env.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{key}={raw!r} is not a number", hint=f"e.g. {key}=2.50 (US dollars)") from None
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"{key} must be a number above 0")
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


def _scalar_type(name: str) -> Any:
    """A key's type without its `| None`: how its variable's text is read."""
    annotation = key_info(name).annotation
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
        return kinds[0] if len(kinds) == 1 else str
    return annotation


def _env_value(env: Mapping[str, str], name: str, variable: str) -> Any:
    kind = _scalar_type(name)
    if kind is int:
        return _int_env(env, variable)
    if kind is bool:
        return _bool_env(env, variable)
    if kind is float:
        return _float_env(env, variable)
    raw = env.get(variable) or None
    if raw is not None and kind is Path:
        return Path(raw).resolve()  # relative to where autodev runs, like a flag
    return raw


def env_layer(env: Mapping[str, str]) -> list[Sourced]:
    """`AUTODEV_*`: an empty variable counts as unset; `AUTODEV_MODEL_<TIER>` serves one tier."""
    values = []
    for name in KEYS:
        variable = extra(name, "env")
        if variable is None or name == "tiers":
            continue
        value = _env_value(env, name, variable)
        if value is not None:
            values.append(Sourced(name, value, f"env {variable}"))
    for tier in TIERS:
        variable = f"AUTODEV_MODEL_{tier.upper()}"
        if env.get(variable, "").strip():  # blank counts as unset, like empty
            values.append(Sourced(f"tiers.{tier}", env[variable], f"env {variable}"))
    return values


# ---------------------------------------------------------------- flags
def parse_model_flags(flags: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for flag in flags:
        tier, sep, model_id = flag.partition("=")
        tier = TIER_ALIASES.get(tier.strip(), tier.strip().lower())
        if not sep or not model_id.strip() or tier not in TIERS:
            raise UserError(f"--model {flag!r}: expected TIER=MODEL_ID with TIER one of fast, balanced, deep")
        out[tier] = model_id.strip()
    return out


def flag_layer(cli: CliOverrides) -> list[Sourced]:
    values = []
    if cli.provider:
        values.append(Sourced("provider", cli.provider, "--provider"))
    if cli.max_parallel is not None:
        values.append(Sourced("max_parallel", cli.max_parallel, "--max-parallel"))
    if cli.script:
        values.append(Sourced("script", Path(cli.script).resolve(), "--script"))
    if cli.sandbox:
        values.append(Sourced("sandbox", cli.sandbox, "--sandbox"))
    if cli.max_cost is not None:
        values.append(Sourced("max_cost_usd", cli.max_cost, "--max-cost"))
    values += [
        Sourced(f"tiers.{tier}", model_id, "--model") for tier, model_id in parse_model_flags(cli.models).items()
    ]
    return values
