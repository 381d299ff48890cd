"""The versions a project pins, for the web researcher: it never sees the code, but researching the
wrong major version of a library is worse than not researching at all.

Read from the manifests at the repository root (pyproject.toml, requirements*.txt, package.json, ...)
with the dependency analyser's parsers; a manifest that does not parse is left out, never guessed at.
"""

from __future__ import annotations

import re
from pathlib import Path

from autodev.agent.analysers.deps import MANIFESTS, parse_requirements_txt

MAX_CHARS = 1500  # a few hundred tokens: the pins are a hint, the researcher's context is small
_REQUIREMENTS = re.compile(r"requirements[\w.-]*\.(txt|in)")


def _manifests(root: Path) -> list[Path]:
    named = [root / name for name in MANIFESTS]
    requirements = sorted(p for p in root.glob("requirements*") if _REQUIREMENTS.fullmatch(p.name))
    return [p for p in (*named, *requirements) if p.is_file() and not p.is_symlink()]


def dependency_pins(root: Path, max_chars: int = MAX_CHARS) -> str | None:
    """`# Project dependencies`: each root manifest's requirements as written, cut to `max_chars`; None if none."""
    lines: list[str] = []
    for path in _manifests(root):
        parse = MANIFESTS.get(path.name, parse_requirements_txt)
        try:
            requirements = parse(path.read_text(encoding="utf-8", errors="replace"))
        except Exception:  # a manifest that does not parse: no pins from it rather than wrong ones
            continue
        if requirements:
            lines.append(f"- {path.name}: " + ", ".join(sorted(set(requirements.values()))))
    if not lines:
        return None
    text = "\n".join(lines)
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(",", 1)[0] + " [...]"
    return f"# Project dependencies\n\nWhat the project's manifests pin; research these versions.\n\n{text}"
