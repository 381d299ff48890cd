"""YAML frontmatter of agent and skill files: split, parse, and read typed fields with errors that point at the line.

Agent files (`specs`) and skill files (`skills`) share the format of Claude Code: a `---` line, YAML, a
`---` line, then the body. Every error names the file, the line and the field, because a user with
twenty agent files needs to find the bad one; each caller passes its own error class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autodev.core.errors import UserError

NESTING_HINT = "frontmatter holds 'key: value' lines, lists of names and small mappings, not deep nesting"


class FrontmatterError(UserError):
    """A malformed file with frontmatter: the message starts with `file:line`."""


def split_frontmatter(path: Path, text: str, error: type[FrontmatterError] = FrontmatterError) -> tuple[str, str, int]:
    """Return (yaml text, body, line number where the YAML starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise error(f"{path}:1: the file must start with a '---' line opening the YAML frontmatter")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).strip(), 2
    raise error(f"{path}:1: the frontmatter opened on line 1 is never closed with a '---' line")


def key_lines(
    path: Path, frontmatter: str, first_line: int, error: type[FrontmatterError] = FrontmatterError
) -> dict[str, int]:
    """Each top-level key's line in the file (the YAML is composed, not loaded, to keep the marks)."""
    try:
        node = yaml.compose(frontmatter)
    except RecursionError:
        raise error(f"{path}:{first_line}: frontmatter is nested too deeply to read", hint=NESTING_HINT) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}:{line}: frontmatter is not valid YAML: {problem}") from exc
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise error(f"{path}:{first_line}: frontmatter must be a mapping of 'key: value' lines")
    return {str(k.value): first_line + k.start_mark.line for k, _ in node.value}


@dataclass(frozen=True)
class Fields:
    """Reads typed fields from the frontmatter mapping, raising errors that point at the line."""

    path: Path
    data: Mapping[str, Any]
    lines: Mapping[str, int]
    error_type: type[FrontmatterError] = FrontmatterError

    def error(self, key: str, message: str) -> FrontmatterError:
        line = self.lines.get(key, 1)
        return self.error_type(f"{self.path}:{line}: field '{key}': {message}")

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error_type(f"{self.path}:1: field '{key}': required but missing")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value).strip() == "":
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return str(value).strip()

    def positive_int(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(key, f"must be a positive whole number, got {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        """A YAML boolean (`true`/`false`); a string such as 'yes please' is an error, not a guess."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def name_list(self, key: str) -> tuple[str, ...] | None:
        """A comma-separated string or a YAML list of strings; None when the key is absent."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value]
        else:
            raise self.error(key, f"must be a comma-separated string or a list of names, got {value!r}")
        return tuple(item for item in items if item)

    def string_list(self, key: str) -> tuple[str, ...] | None:
        """A YAML list of strings (commas are content here: globs may hold them); None when absent."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, f"must be a list of non-empty strings, got {value!r}")
        return tuple(v.strip() for v in value)


def read_frontmatter(
    path: Path,
    text: str,
    error: type[FrontmatterError] = FrontmatterError,
    aliases: Mapping[str, str] | None = None,
) -> tuple[Fields, str]:
    """The file's fields (keys renamed through `aliases`, with their lines) and its body."""
    frontmatter, body, first_line = split_frontmatter(path, text, error)
    lines = key_lines(path, frontmatter, first_line, error)
    try:
        raw = yaml.safe_load(frontmatter) or {}
    except RecursionError:  # composed above, so only nesting that the constructor cannot follow
        raise error(f"{path}:{first_line}: frontmatter is nested too deeply to read", hint=NESTING_HINT) from None
    rename = aliases or {}
    data = {rename.get(str(k), str(k)): v for k, v in raw.items()}
    renamed_lines = {rename.get(k, k): v for k, v in lines.items()}
    return Fields(path, data, renamed_lines, error), body
