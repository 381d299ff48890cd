"""The blocking file work behind Read, Write, Edit, Glob and Grep, as plain functions.

The tools call these in a worker thread (`anyio.to_thread.run_sync`), never on the event loop: the
loop is shared by the agents running in parallel, and one agent reading a large file, walking a big
tree or opening a FIFO that blocks must not stall the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autodev.sandbox.workspace import ToolError, Workspace, is_protected

MAX_READ_BYTES = 2_000_000
PATH_PROPERTY = {"type": "string", "description": "path relative to the repository root"}


def schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def size_text(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 1_000_000 else f"{count} bytes"


def read_text(path: Path, shown: str) -> str:
    if path.is_dir():
        raise ToolError(f"{shown}: no such file (it is a directory; use Glob to list it)")
    if not path.is_file():
        raise ToolError(f"{shown}: no such file")
    size = path.stat().st_size
    if size > MAX_READ_BYTES:
        raise ToolError(
            f"{shown}: file is {size_text(size)}, larger than the {size_text(MAX_READ_BYTES)} Read limit; "
            "use Grep to find the lines you need"
        )
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{shown}: binary file ({size_text(len(data))}, contains NUL bytes), not shown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{shown}: not UTF-8 text (invalid byte at offset {exc.start}); not shown") from None


def write_text(path: Path, text: str) -> None:
    """Encode before opening, so content that can't be encoded never leaves a file truncated."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ToolError(f"content is not valid UTF-8 text: {exc.reason}") from None
    path.write_bytes(data)


def walk(workspace: Workspace, start: Path) -> Iterator[Path]:
    """Regular files under `start`, sorted; never symlinks, never inside a protected directory."""
    if start.is_file():
        yield start
        return
    for path in sorted(start.rglob("*")):
        if is_protected(path.relative_to(workspace.root).parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path
