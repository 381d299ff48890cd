"""Write scopes: where one agent may write, as globs over paths relative to the worktree root.

An agent's scope comes from its file's `write_scope:` (docs/agents.md) or, taking precedence, from
`write_scopes.<agent>` in config: `*` stays within a directory, `**` spans any number, `!glob`
excludes, an empty list means read-only. An agent with neither writes wherever its tools let it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNRESTRICTED = ("**",)


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` (a write-scope glob, `!` for an exclusion) is unusable, or None when it is fine."""
    unified = pattern.removeprefix("!").replace("\\", "/")
    if not unified or unified.startswith("/") or ".." in unified.split("/") or unified[1:2] == ":":
        return f"{pattern!r} must be a glob relative to the repository root"
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob: `*` and `?` stay within one directory, `**/` spans any number of them."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern)


@dataclass(frozen=True)
class WriteScope:
    """Where one agent may write: globs over paths relative to the worktree root."""

    agent: str
    patterns: tuple[str, ...]
    source: str = "default"

    @property
    def read_only(self) -> bool:
        return not any(not pattern.startswith("!") for pattern in self.patterns)

    @property
    def unrestricted(self) -> bool:
        return "**" in self.patterns and not any(pattern.startswith("!") for pattern in self.patterns)

    def allows(self, rel_path: str) -> bool:
        """True when a pattern matches `rel_path` and no `!pattern` excludes it."""
        rel = rel_path.replace("\\", "/").strip("/")
        excluded = any(_compiled(p[1:]).fullmatch(rel) for p in self.patterns if p.startswith("!"))
        return not excluded and any(_compiled(p).fullmatch(rel) for p in self.patterns if not p.startswith("!"))

    def describe(self) -> str:
        if self.read_only:
            return "nothing (read-only)"
        shown = ", ".join(self.patterns[:12]) + (", ..." if len(self.patterns) > 12 else "")
        return shown

    def refusal(self, shown: str, rel_path: str) -> str:
        if self.read_only:
            return f"{shown!r}: {self.agent} is read-only; it may not write files"
        where = "" if shown.replace("\\", "/").strip("./") == rel_path else f" (it is {rel_path!r})"
        return f"{shown!r}{where} is outside {self.agent}'s write scope; {self.agent} may write only {self.describe()}"
