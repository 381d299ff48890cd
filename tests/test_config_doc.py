"""docs/config.md, checked: it documents every configuration key and every provider, and its example
is a configuration `autodev` accepts (as a repository file and as the user-level file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scripts import trust_repo

from autodev.config.schema import KEYS, extra
from autodev.config.settings import load_settings
from autodev.models.registry import provider_names

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def documented(heading: str) -> list[str]:
    """The first cell of every table row under `heading` (up to the next heading of its level)."""
    text = DOC.read_text(encoding="utf-8")
    level = heading.split(" ")[0]
    section = text.split(f"\n{heading}\n", 1)[1].split(f"\n{level} ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def example() -> str:
    section = DOC.read_text(encoding="utf-8").split("\n## Example\n", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def test_every_key_is_documented_once() -> None:
    keys = documented("## Keys")
    assert sorted(keys) == sorted(KEYS)


def test_each_keys_variable_and_flag_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for key in KEYS:
        row = re.search(rf"^\| `{re.escape(key)}` \|.*$", text, flags=re.MULTILINE)
        assert row is not None, key
        for what in ("env", "flag"):
            named = extra(key, what)
            if named is not None:
                assert named.replace("<TIER>", "FAST") in row.group(0), (key, named)


def test_every_provider_is_documented() -> None:
    assert documented("## Providers") == list(provider_names())


@pytest.mark.parametrize("where", ["repository", "user"])
def test_the_example_is_a_valid_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / ("repo/.autodev" if where == "repository" else "xdg/autodev") / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(example(), encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    trust_repo(repo)
    settings = load_settings(repo, env={})
    assert settings.provider == "anthropic" and settings.sources["provider"] == str(path)
    assert settings.test_command == ["python", "-m", "pytest", "-q"]
    assert settings.agents["reviewer"].model == "sonnet"
    assert settings.sources["write_scopes.doc-master"] == str(path)
