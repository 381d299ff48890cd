"""Whether an edit of a project manifest (pyproject.toml, package.json, Cargo.toml) changed what users
install, or only the tools' settings that the same file also holds.

pyproject.toml carries both `[build-system]` / `[project] dependencies` and `[tool.ruff]`; a change to
the first is a packaging change (deps: the security audit and the gate), a change to the second is
configuration. With both versions at hand the tables decide; without (the benchmark, a file that does
not parse) the file counts as deps, the cautious answer.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

# Dotted keys whose values are what users install (and how it is built), per manifest.
PACKAGING_KEYS: dict[str, tuple[str, ...]] = {
    "pyproject.toml": (
        "build-system", "project.dependencies", "project.optional-dependencies", "project.requires-python",
        "project.scripts", "project.gui-scripts", "project.entry-points", "dependency-groups",
        "tool.poetry.dependencies", "tool.poetry.group", "tool.poetry.dev-dependencies", "tool.poetry.extras",
        "tool.poetry.scripts", "tool.poetry.plugins", "tool.pdm.dev-dependencies", "tool.uv.sources",
        "tool.setuptools", "tool.hatch.build", "tool.hatch.metadata", "tool.hatch.version", "tool.flit",
        "tool.maturin",
    ),
    "package.json": (
        "dependencies", "devDependencies", "peerDependencies", "optionalDependencies", "bundledDependencies",
        "overrides", "resolutions", "engines", "scripts", "main", "module", "exports", "bin", "files",
        "packageManager", "workspaces",
    ),
    "cargo.toml": (
        "dependencies", "dev-dependencies", "build-dependencies", "target", "workspace.dependencies",
        "patch", "replace", "features", "package.build", "package.links", "lib", "bin",
    ),
}  # fmt: skip

_PARSERS: dict[str, Callable[[str], Any]] = {
    "pyproject.toml": tomllib.loads,
    "cargo.toml": tomllib.loads,
    "package.json": json.loads,
}


def manifest_name(path: str) -> str | None:
    """The manifest kind of `path` ("pyproject.toml", "package.json", "cargo.toml"), or None."""
    name = PurePosixPath(path).name.lower()
    return name if name in PACKAGING_KEYS else None


def _pick(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def packaging_changed(path: str, before: str | None, after: str | None) -> bool:
    """True unless both versions parse and every packaging table is the same in both."""
    name = manifest_name(path)
    if name is None or before is None or after is None:
        return True
    parse = _PARSERS[name]
    try:
        old, new = parse(before), parse(after)
    except (ValueError, tomllib.TOMLDecodeError):
        return True
    return any(_pick(old, key) != _pick(new, key) for key in PACKAGING_KEYS[name])
