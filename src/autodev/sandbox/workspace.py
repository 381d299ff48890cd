"""The run's worktree as the only place tools may touch.

Every path a model names is resolved here, symlinks included, and refused unless it lands inside the
worktree and outside `.git/` and `.autodev/`. Refusals are errors returned to the model (the run goes
on) and are recorded in `refusals`, so a run that keeps knocking on the walls shows up in its metrics.

What is refused, and why:

- `..` as a path component, absolute paths (POSIX `/x`, Windows `C:\\x` or `C:x`, UNC `\\\\server\\share`),
  NUL and other control characters, lone surrogates, over-long paths and names.
- A path whose real location (every symlink followed, parents included) is outside the root.
- `.git` and `.autodev` as *any* component, before and after symlinks are followed, compared the way a
  file system might compare them: case-insensitively (`.GIT`, `.Git`), with trailing dots and spaces
  dropped (Windows: `.git.` is `.git`), with an NTFS stream suffix dropped (`.git::$INDEX_ALLOCATION`),
  with the code points HFS+ ignores removed (`.g\\u200cit`), and the 8.3 short names `GIT~1`/`AUTODE~1`.
  These are the tricks git itself defends against (CVE-2014-9390, CVE-2019-1352).

What is deliberately *not* refused, because no file system treats it as the protected name:

- Compatibility look-alikes such as the fullwidth `．ｇｉｔ` (U+FF0E, U+FF47...): NFKC would fold them
  to `.git`, but no mainstream file system applies NFKC, so they name an ordinary, different file.
- NFC/NFD variants: `.git` and `.autodev` are pure ASCII, which every normalisation form leaves alone,
  so no decomposed spelling of them exists. Names are still compared in NFC.
- A leading `~`: paths are never passed through `expanduser`, so `~/x` is a directory literally named
  `~` inside the worktree, not the home directory.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autodev.sandbox.scopes import WriteScope

PROTECTED_DIRS: frozenset[str] = frozenset({".git", ".autodev"})
# The 8.3 short names Windows may give these directories.
_SHORT_NAMES: dict[str, str] = {"git~1": ".git", "autode~1": ".autodev"}
# Code points HFS+ ignores when comparing names (git's is_hfs_dotgit list).
_HFS_IGNORABLE = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_PATH_CHARS = 4096
MAX_NAME_BYTES = 255


class ToolError(Exception):
    """A tool call that could not be carried out; its message goes back to the model."""


def protected_name(name: str) -> str | None:
    """The protected directory `name` could denote on some file system, or None."""
    key = _HFS_IGNORABLE.sub("", unicodedata.normalize("NFC", name))
    key = key.split(":", 1)[0].rstrip(" .")
    for folded in {key.casefold(), key.upper().casefold()}:  # upper() first also folds `ı` to `i`
        if folded in PROTECTED_DIRS:
            return folded
        if folded in _SHORT_NAMES:
            return _SHORT_NAMES[folded]
    return None


def is_protected(rel_parts: tuple[str, ...] | list[str]) -> bool:
    return any(protected_name(part) for part in rel_parts)


@dataclass
class Workspace:
    root: Path
    read_only: bool = False
    refusals: list[str] = field(default_factory=list)
    write_scope: WriteScope | None = None
    written: set[str] = field(default_factory=set)  # paths this view let a tool write: its agent's checkpoint

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    def for_agent(self, scope: WriteScope) -> Workspace:
        """The same worktree seen by one agent: its write scope applies, its refusals are its own."""
        return Workspace(self.root, read_only=self.read_only, write_scope=scope)

    def refuse(self, message: str) -> ToolError:
        self.refusals.append(message)
        return ToolError(message)

    def _check_syntax(self, path: str) -> list[str]:
        """Refuse what is wrong with `path` as written; return its components."""
        if "\x00" in path:
            raise self.refuse("path contains a NUL byte")
        if any(ord(char) < 32 or ord(char) == 127 for char in path):
            raise self.refuse(f"{path!r}: path contains a control character")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise self.refuse(f"{path!r}: path is not valid Unicode text") from None
        if len(path) > MAX_PATH_CHARS:
            raise self.refuse(f"path is {len(path)} characters long; the limit is {MAX_PATH_CHARS}")
        unified = path.replace("\\", "/")
        if unified.startswith("/") or _DRIVE.match(path):
            raise self.refuse(f"{path!r}: absolute paths are not allowed; use a path relative to the repository root")
        parts = [part for part in unified.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise self.refuse(f"{path!r}: '..' is not allowed; paths stay inside the repository")
        for part in parts:
            if len(part.encode("utf-8")) > MAX_NAME_BYTES:
                raise self.refuse(f"{path!r}: a file name longer than {MAX_NAME_BYTES} bytes is not allowed")
            if protected_name(part):
                raise self.refuse(f"{path!r}: {part}/ is off limits to tools")
        return parts

    def resolve(self, path: str, *, for_write: bool = False) -> Path:
        """Map a model-supplied relative path to a real path inside the worktree, or refuse."""
        if for_write and self.read_only:
            raise self.refuse("this agent is read-only here: writing files is not allowed")
        if not isinstance(path, str) or not path.strip():
            raise self.refuse("a path is required (relative to the repository root)")
        parts = self._check_syntax(path)
        try:
            candidate = self.root.joinpath(*parts).resolve()
        except (OSError, RuntimeError):  # a symlink loop, or a name the OS rejects
            raise self.refuse(f"{path!r} cannot be resolved (a symlink loop?)") from None
        try:
            relative = candidate.relative_to(self.root)
        except ValueError:
            raise self.refuse(f"{path!r} resolves outside the repository (a symlink?)") from None
        for part in relative.parts:
            if protected_name(part):
                raise self.refuse(f"{path!r} leads into {part}/, which is off limits to tools (a symlink?)")
        if for_write and self.write_scope is not None and not self.write_scope.allows(relative.as_posix()):
            raise self.refuse(self.write_scope.refusal(path, relative.as_posix()))
        if for_write:
            self.written.add(relative.as_posix())
        return candidate

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."
