"""Issue 20: Write and Edit guard against the habits of real models (read-before-edit, line-number prefixes,
placeholders, unparsable Python), and Read, Grep and Glob defaults fit an 8-16K-token agent."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext
from autodev.tools.files import DEFAULT_READ_LINES, MAX_LISTED, Edit, Glob, Read, Write
from autodev.tools.grep import MAX_MATCHES, Grep

SOURCE = 'def greet(name):\n    """Say hello."""\n    return "Hello " + name\n\n\nVALUE = 1\n'


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    (tmp_path / "greet.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n", encoding="utf-8")
    return ToolContext(Workspace(tmp_path), "implementer", reads=set())


def call(tool: Any, args: Mapping[str, Any], ctx: ToolContext) -> str:
    async def main() -> str:
        return str(await tool(args, ctx))

    return anyio.run(main)


def edit(ctx: ToolContext, old: str, new: str, path: str = "greet.py") -> str:
    return call(Edit(), {"file_path": path, "old_string": old, "new_string": new}, ctx)


def test_edit_refuses_a_file_never_read_and_works_after_a_read(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not Read this file"):
        edit(ctx, "VALUE = 1", "VALUE = 2")
    call(Read(), {"file_path": "greet.py", "offset": 6, "limit": 1}, ctx)
    assert edit(ctx, "VALUE = 1", "VALUE = 2").startswith("Edited greet.py: 1 replacement\n")
    assert edit(ctx, "VALUE = 2", "VALUE = 3")  # its own edit keeps the file known


def test_write_refuses_to_overwrite_a_file_never_read_but_creates_new_ones(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="have not Read it"):
        call(Write(), {"file_path": "notes.md", "content": "gone\n"}, ctx)
    assert call(Write(), {"file_path": "new.md", "content": "fresh\n"}, ctx).startswith("Created new.md")
    assert call(Write(), {"file_path": "new.md", "content": "again\n"}, ctx).startswith("Overwrote new.md")
    call(Read(), {"file_path": "notes.md"}, ctx)
    assert call(Write(), {"file_path": "notes.md", "content": "# Notes\nmore\n"}, ctx).startswith("Overwrote")


def test_tools_used_on_their_own_do_not_track_reads(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    assert call(
        Edit(), {"file_path": "a.txt", "old_string": "x", "new_string": "y"}, ToolContext(Workspace(tmp_path), "t")
    )


def test_edit_refuses_reads_line_number_prefixes(ctx: ToolContext) -> None:
    read = call(Read(), {"file_path": "greet.py", "limit": 3}, ctx)
    copied = "\n".join(read.splitlines()[2:3])  # "     3\t    return ..."
    with pytest.raises(ToolError, match="line number and a tab"):
        edit(ctx, copied, '     3\t    return "Hi " + name')
    assert (ctx.workspace.root / "greet.py").read_text(encoding="utf-8") == SOURCE


def test_a_missed_edit_shows_the_nearest_lines(ctx: ToolContext) -> None:
    call(Read(), {"file_path": "greet.py"}, ctx)
    with pytest.raises(ToolError) as info:
        edit(ctx, '    return "Hello" + name', '    return "Hi " + name')
    message = str(info.value)
    assert 'closest lines are:\n     3\t    return "Hello " + name\n' in message


def test_a_miss_with_nothing_close_gives_the_plain_hint(ctx: ToolContext) -> None:
    call(Read(), {"file_path": "greet.py"}, ctx)
    with pytest.raises(ToolError, match="copy the text exactly"):
        edit(ctx, "class Completely(Different): pass", "x")


def test_an_edit_that_breaks_python_is_refused_with_the_line(ctx: ToolContext) -> None:
    call(Read(), {"file_path": "greet.py"}, ctx)
    with pytest.raises(ToolError) as info:
        edit(ctx, '    return "Hello " + name', '    return "Hello " + name +')
    assert "unparsable" in str(info.value) and "line 3" in str(info.value)
    assert (ctx.workspace.root / "greet.py").read_text(encoding="utf-8") == SOURCE
    with pytest.raises(ToolError, match="unparsable"):
        call(Write(), {"file_path": "new.py", "content": "def f(:\n"}, ctx)
    assert not (ctx.workspace.root / "new.py").exists()


def test_a_file_already_broken_may_be_edited_step_by_step(ctx: ToolContext) -> None:
    (ctx.workspace.root / "broken.py").write_text("def f(:\n    pass\nX = 1\n", encoding="utf-8")
    call(Read(), {"file_path": "broken.py"}, ctx)
    assert edit(ctx, "X = 1", "X = 2", path="broken.py").startswith("Edited")


@pytest.mark.parametrize(
    "placeholder",
    ["    # ... existing code ...", "// ... rest of code ...", "# ... (rest unchanged)", "    # … remaining methods"],
)
def test_placeholder_lines_are_refused(ctx: ToolContext, placeholder: str) -> None:
    call(Read(), {"file_path": "greet.py"}, ctx)
    with pytest.raises(ToolError, match="placeholder"):
        edit(ctx, "VALUE = 1\n", f"VALUE = 2\n{placeholder}\n")
    with pytest.raises(ToolError, match="placeholder"):
        call(Write(), {"file_path": "other.py", "content": f"def f():\n    pass\n{placeholder}\n"}, ctx)


def test_an_ordinary_comment_with_dots_is_not_a_placeholder(ctx: ToolContext) -> None:
    call(Read(), {"file_path": "greet.py"}, ctx)
    assert edit(ctx, "VALUE = 1\n", "# ... and so the value grows\nVALUE = 2\n").startswith("Edited")


def test_defaults_are_sized_for_small_contexts(ctx: ToolContext) -> None:
    assert DEFAULT_READ_LINES <= 300 and MAX_MATCHES <= 100 and MAX_LISTED <= 200
    root = ctx.workspace.root
    (root / "long.txt").write_text("line\n" * 1000, encoding="utf-8")
    read = call(Read(), {"file_path": "long.txt"}, ctx)
    assert read.endswith(f"[{1000 - DEFAULT_READ_LINES} more lines; use offset {DEFAULT_READ_LINES + 1}]")
    for index in range(MAX_LISTED + 5):
        (root / f"f{index:03}.txt").write_text("hit\n", encoding="utf-8")
    assert call(Glob(), {"pattern": "f*.txt"}, ctx).endswith("[5 more not shown]")


def test_grep_lists_files_or_counts_on_request(ctx: ToolContext) -> None:
    grep = Grep(use_rg=False)
    assert call(grep, {"pattern": "name", "output_mode": "files_with_matches"}, ctx) == "greet.py"
    assert call(grep, {"pattern": "name", "output_mode": "count"}, ctx) == "greet.py: 2"
    with pytest.raises(ToolError, match="output_mode"):
        call(grep, {"pattern": "name", "output_mode": "everything"}, ctx)
