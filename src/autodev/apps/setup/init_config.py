"""`autodev init`: a repository's `.autodev/config.toml`, written from what autodev detects, each line saying why.

What goes in: the provider (from the API key variables, the user's config or `--provider`), the model
serving each tier, the test command and the environment it runs in (`run.gate.environment.detect`,
whose `describe()` is the reason), and the jail. Nothing is guessed: a value autodev can't detect is
written as a commented-out line with what to do.

The test command is written in a form that stays true on another machine: a project environment's
interpreter becomes `python` (a configured command runs with that environment's `bin` first on PATH,
so it is the same interpreter); other toolchains' commands (`npm test`, `go test ./...`) are written
as they are.

Trust: `test_command` in a repository's file is a setting that widens what runs, so it counts only
once approved (`autodev trust`). The user chose it by running `init`, and it is what autodev would run
anyway without a configuration (the detected command), so `init` records the approval of the file it
just wrote — but only when nothing else in the repository (an agent file adding tools, a skill with
scripts, another key) needs approving: those the user has not seen, so `init` leaves them to
`autodev trust` and says so.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autodev.agent.specs import TIERS
from autodev.config.providers import unnamed_tiers
from autodev.config.schema import ConfigKeys
from autodev.config.settings import NO_PROVIDER_HINT, CliOverrides, Settings, load_settings
from autodev.config.trust import approve, repo_trust
from autodev.core.clock import utc_now
from autodev.core.errors import UserError
from autodev.run.confinement import jail_line
from autodev.run.gate.environment import TestEnvironment, detect

CONFIG_PATH = Path(".autodev") / "config.toml"
BACKUP_SUFFIX = ".bak"


@dataclass(frozen=True)
class ConfigDraft:
    """The file `init` would write, and what it found on the way."""

    repo: Path
    path: Path
    text: str
    provider: str | None
    tests: TestEnvironment | None
    existing: tuple[str, ...]  # configuration this file would replace or shadow


@dataclass(frozen=True)
class OwnApproval:
    """Whether `init` recorded the approval of what it wrote, and what else still needs `autodev trust`."""

    approved: bool
    others: tuple[str, ...] = ()


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, bar DEL, which TOML wants escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_string(value) for value in values) + "]"


def portable_command(tests: TestEnvironment) -> tuple[list[str], str]:
    """The command to write, and why it is written so: an environment's own interpreter becomes `python`."""
    command = list(tests.command)
    environment = tests.environment
    if environment is not None and command and Path(command[0]).parent == environment / "bin":
        command[0] = "python"
        return command, f"`python` is the {tests.source} environment's (its bin comes first on PATH for the tests)"
    if tests.source == "python on PATH":
        return command, "this machine's interpreter (no project environment found; a .venv makes it portable)"
    return command, "as detected"


def existing_config(repo: Path) -> tuple[str, ...]:
    """What a new `.autodev/config.toml` would replace (itself) or shadow (`pyproject.toml [tool.autodev]`)."""
    found = []
    if (repo / CONFIG_PATH).exists() or (repo / CONFIG_PATH).is_symlink():
        found.append(str(CONFIG_PATH))
    try:
        pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        pyproject = {}
    tool = pyproject.get("tool")
    if isinstance(tool, dict) and "autodev" in tool:
        found.append("pyproject.toml [tool.autodev]")
    return tuple(found)


def _provider_lines(settings: Settings) -> list[str]:
    if settings.provider is None:
        first = NO_PROVIDER_HINT.split(";")[0]
        return [
            "# provider: none detected (no ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_BASE_URL set).",
            f"# To choose: {first}; then run `autodev init --yes` again, or uncomment:",
            '# provider = "anthropic"',
        ]
    return [f"# provider: from {settings.source_of('provider')}", f"provider = {toml_string(settings.provider)}"]


def _test_lines(tests: TestEnvironment | None) -> list[str]:
    if tests is None:
        return [
            "# tests: none found (no tests/ or test_*.py, no package.json test script, go.mod or Cargo.toml);",
            "# the gate then has nothing to run. When the project has tests, set the command (needs `autodev trust`):",
            '# test_command = "python -m pytest -q"',
        ]
    command, why = portable_command(tests)
    lines = [f"# tests: {tests.describe()}"]
    if tests.environment is not None:
        lines.append(f"# environment: {tests.environment} ({tests.source}), activated for the command below")
    lines += [
        f"# written as: {why}. A repository's test_command counts once approved (`autodev trust`).",
        f"test_command = {toml_list(command)}",
    ]
    return lines


def _tier_lines(settings: Settings) -> list[str]:
    if settings.provider is None:
        return ["# [tiers]  # the model serving each tier, once a provider is chosen (fast, balanced, deep)"]
    lines = ["# the model serving each tier (each agent declares fast, balanced or deep)", "[tiers]"]
    unnamed, served = unnamed_tiers(settings, TIERS)  # a local server: the provider's defaults mean nothing there
    for tier in TIERS:
        model = settings.tiers.get(tier)
        if tier in unnamed and served is not None:
            example = served.models[0] if served.models else "MODEL"
            lines.append(f"# {tier} = {toml_string(example)}  # name one of the server's models: {served.describe()}")
        elif model is not None:
            lines.append(f"{tier} = {toml_string(model)}  # {settings.source_of(f'tiers.{tier}')}")
    return lines


def draft_config(repo: Path, provider: str | None = None, env: Mapping[str, str] | None = None) -> ConfigDraft:
    """The config `init` would write for `repo`, from the settings as autodev resolves them now."""
    settings = load_settings(repo, CliOverrides(provider=provider), env)
    tests = detect(repo, settings.test_command)
    lines = [
        f"# autodev configuration for this repository, written by `autodev init` on {utc_now():%Y-%m-%d}.",
        "# Every key: docs/config.md. `autodev config show` prints each value and where it came from;",
        "# `autodev doctor` checks that the provider, the models, the tests and git all work.",
        "",
        *_provider_lines(settings),
        "",
        *_test_lines(tests),
        "",
        f"# jail for the tests and agents' commands: {jail_line(settings)}",
        "# (tests that need the network or variables: [sandbox] network = true, env = [...]; needs `autodev trust`)",
        "",
        *_tier_lines(settings),
        "",
    ]
    text = "\n".join(lines)
    check_text(text)
    return ConfigDraft(repo, repo / CONFIG_PATH, text, settings.provider, tests, existing_config(repo))


def check_text(text: str) -> None:
    """The file reads back as a valid configuration (a bug here must never leave a broken file behind)."""
    ConfigKeys.model_validate(tomllib.loads(text))


def write_config(draft: ConfigDraft) -> Path | None:
    """Write the file atomically; an existing one is kept as `config.toml.bak` (returned)."""
    path = draft.path
    backup = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            backup.write_bytes(path.read_bytes())
        elif path.exists() or path.is_symlink():
            raise UserError(f"{path} is not a regular file", hint="remove it, then run autodev init again")
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_text(draft.text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}", hint="make .autodev writable") from None
    return backup


def approve_own(repo: Path) -> OwnApproval:
    """Approve the file `init` just wrote when it is all that needs approving (see the module's docstring)."""
    check = repo_trust(repo)
    if check.trusted:
        return OwnApproval(True)
    own = CONFIG_PATH.as_posix()
    others = tuple(
        f"{item.label()} ({item.source})" for item in check.items if item.kind != "key" or item.source != own
    )
    if others:
        return OwnApproval(False, others)
    approve(check)
    return OwnApproval(True)
