"""The workspace sandbox and the file tools (Read, Write, Edit, Glob, Grep)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import MakeRepo

from autodev.core.text import DEFAULT_OUTPUT_CAP, cap_output
from autodev.models import ToolDefinition
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext, ToolResult, invoke
from autodev.tools.files import Edit, Glob, Read, RunTests, Write, builtin_tools
from autodev.tools.grep import MAX_MATCHES, Grep, _rg_files_with_matches, grep_candidates


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "src" / "pkg" / "core.py").write_text("def slugify(text):\n    return text.lower()\n", encoding="utf-8")
    (root / "src" / "pkg" / "util.py").write_text("import os\nTODO = 'Slugify later'\n", encoding="utf-8")
    (root / "setup.py").write_text("from setuptools import setup\nsetup()\n", encoding="utf-8")
    (root / "README.md").write_text("# Demo\nslugify turns text into slugs\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\nslugify = secret\n", encoding="utf-8")
    (root / ".autodev").mkdir()
    (root / ".autodev" / "config.toml").write_text("# slugify\n", encoding="utf-8")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("slugify secret\n", encoding="utf-8")
    return outside


def call(tool: Any, args: Mapping[str, Any], workspace: Workspace) -> str:
    """Call a tool directly: a refusal raises ToolError."""

    async def main() -> str:
        return str(await tool(args, ToolContext(workspace, "tester")))

    return anyio.run(main)


def invoked(tool: Any, args: Mapping[str, Any], workspace: Workspace) -> ToolResult:
    """Call a tool the way the agent loop does: errors come back as results."""

    async def main() -> ToolResult:
        return await invoke(tool, args, ToolContext(workspace, "tester"))

    return anyio.run(main)


# --- the workspace ---------------------------------------------------------------------------------


def test_resolve_inside(root: Path) -> None:
    ws = Workspace(root)
    assert ws.resolve("src/pkg/core.py") == root.resolve() / "src" / "pkg" / "core.py"
    assert ws.resolve("./src/pkg") == root.resolve() / "src" / "pkg"
    assert ws.resolve(".") == root.resolve()
    assert ws.resolve("src\\pkg\\core.py") == root.resolve() / "src" / "pkg" / "core.py"
    assert ws.resolve("new/dir/file.txt", for_write=True) == root.resolve() / "new" / "dir" / "file.txt"
    assert ws.refusals == []


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("../outside/secret.txt", "'..'"),
        ("src/../../outside/secret.txt", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\system.ini", "absolute"),
        (".git/config", ".git/"),
        (".git/x", ".git/"),
        ("./.git/hooks/pre-commit", ".git/"),
        (".GIT/config", ".GIT/"),
        (".autodev/x", ".autodev/"),
        (".Autodev/config.toml", ".Autodev/"),
        ("", "path is required"),
        ("src/\x00core.py", "NUL"),
    ],
)
def test_resolve_refuses(root: Path, path: str, needle: str) -> None:
    ws = Workspace(root)
    with pytest.raises(ToolError) as info:
        ws.resolve(path)
    assert needle in str(info.value)
    assert ws.refusals == [str(info.value)]


def test_symlink_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    ws = Workspace(root)
    with pytest.raises(ToolError, match="outside the repository"):
        ws.resolve("leak.txt")
    with pytest.raises(ToolError, match="outside the repository"):
        call(Read(), {"file_path": "leak.txt"}, ws)


def test_dangling_symlink_pointing_outside_is_refused_for_write(root: Path, outside: Path) -> None:
    (root / "trap.txt").symlink_to(outside / "not-yet.txt")
    ws = Workspace(root)
    with pytest.raises(ToolError, match="outside the repository"):
        call(Write(), {"file_path": "trap.txt", "content": "pwned"}, ws)
    assert not (outside / "not-yet.txt").exists()


def test_symlinked_parent_directory_is_refused(root: Path, outside: Path) -> None:
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    ws = Workspace(root)
    with pytest.raises(ToolError, match="outside the repository"):
        ws.resolve("vendor/secret.txt")
    with pytest.raises(ToolError, match="outside the repository"):
        call(Write(), {"file_path": "vendor/new.txt", "content": "x"}, ws)
    assert not (outside / "new.txt").exists()


def test_symlink_into_git_dir_is_refused(root: Path) -> None:
    (root / "innocent").symlink_to(root / ".git", target_is_directory=True)
    with pytest.raises(ToolError, match=r"\.git/"):
        Workspace(root).resolve("innocent/config")


def test_symlink_inside_the_root_is_allowed(root: Path) -> None:
    (root / "alias.py").symlink_to(root / "src" / "pkg" / "core.py")
    assert "def slugify" in call(Read(), {"file_path": "alias.py"}, Workspace(root))


def test_read_only_refuses_writes_but_reads(root: Path) -> None:
    ws = Workspace(root, read_only=True)
    assert "slugify" in call(Read(), {"file_path": "src/pkg/core.py"}, ws)
    with pytest.raises(ToolError, match="read-only"):
        call(Write(), {"file_path": "new.txt", "content": "x"}, ws)
    with pytest.raises(ToolError, match="read-only"):
        call(Edit(), {"file_path": "setup.py", "old_string": "setup()", "new_string": "x"}, ws)
    assert not (root / "new.txt").exists()
    assert (root / "setup.py").read_text(encoding="utf-8").endswith("setup()\n")
    assert len(ws.refusals) == 2


# --- Read ------------------------------------------------------------------------------------------


def test_read_with_line_numbers(root: Path) -> None:
    out = call(Read(), {"file_path": "src/pkg/core.py"}, Workspace(root))
    assert out == "     1\tdef slugify(text):\n     2\t    return text.lower()"


def test_read_offset_and_limit(root: Path) -> None:
    (root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 21)), encoding="utf-8")
    out = call(Read(), {"file_path": "long.txt", "offset": 5, "limit": 3}, Workspace(root))
    lines = out.splitlines()
    assert lines[:3] == ["     5\tline 5", "     6\tline 6", "     7\tline 7"]
    assert lines[3] == "[13 more lines; use offset 8]"
    tail = call(Read(), {"file_path": "long.txt", "offset": 19}, Workspace(root))
    assert tail == "    19\tline 19\n    20\tline 20"
    past = call(Read(), {"file_path": "long.txt", "offset": 50}, Workspace(root))
    assert "20 lines" in past and "nothing at offset 50" in past


@pytest.mark.parametrize("args", [{"file_path": "setup.py", "offset": -1}, {"file_path": "setup.py", "limit": "10"}])
def test_read_bad_numbers(root: Path, args: dict[str, Any]) -> None:
    with pytest.raises(ToolError, match="non-negative whole number"):
        call(Read(), args, Workspace(root))


def test_read_binary_is_refused(root: Path) -> None:
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ToolError, match=r"logo\.png: binary file"):
        call(Read(), {"file_path": "logo.png"}, Workspace(root))


def test_read_missing_file_and_directory(root: Path) -> None:
    with pytest.raises(ToolError, match=r"nope\.py: no such file"):
        call(Read(), {"file_path": "nope.py"}, Workspace(root))
    with pytest.raises(ToolError, match="no such file"):
        call(Read(), {"file_path": "src"}, Workspace(root))
    with pytest.raises(ToolError, match="'file_path' is required"):
        call(Read(), {}, Workspace(root))


# --- Write -----------------------------------------------------------------------------------------


def test_write_creates_parents(root: Path) -> None:
    out = call(Write(), {"file_path": "docs/guide/usage.md", "content": "# Usage\n\nRun it.\n"}, Workspace(root))
    assert out == "Created docs/guide/usage.md (3 lines)"
    assert (root / "docs" / "guide" / "usage.md").read_text(encoding="utf-8") == "# Usage\n\nRun it.\n"


def test_write_overwrites(root: Path) -> None:
    out = call(Write(), {"file_path": "setup.py", "content": "x = 1\n"}, Workspace(root))
    assert out.startswith("Overwrote setup.py")
    assert (root / "setup.py").read_text(encoding="utf-8") == "x = 1\n"


def test_write_refuses_a_directory_and_protected_dirs(root: Path) -> None:
    with pytest.raises(ToolError, match="is a directory"):
        call(Write(), {"file_path": "src", "content": "x"}, Workspace(root))
    with pytest.raises(ToolError, match=r"\.git/"):
        call(Write(), {"file_path": ".git/hooks/post-checkout", "content": "#!/bin/sh\n"}, Workspace(root))
    assert not (root / ".git" / "hooks").exists()


def test_write_under_a_file_is_an_error_result_not_a_crash(root: Path) -> None:
    """An OS error caused by the model's path must come back to the model, not end the run."""
    result = invoked(Write(), {"file_path": "setup.py/inner.py", "content": "x"}, Workspace(root))
    assert result.is_error
    assert result.content.startswith("Error: ")
    assert "setup.py" in result.content and str(root) not in result.content
    assert (root / "setup.py").is_file()
    bad_text = invoked(Write(), {"file_path": "new.txt", "content": "\ud800"}, Workspace(root))
    assert bad_text.is_error


# --- Edit ------------------------------------------------------------------------------------------


def test_edit_exactly_once(root: Path) -> None:
    args = {"file_path": "src/pkg/core.py", "old_string": "text.lower()", "new_string": "text.lower().strip()"}
    result = call(Edit(), args, Workspace(root)).splitlines()
    assert result[0] == "Edited src/pkg/core.py: 1 replacement"
    assert result[1:] == ["     1\tdef slugify(text):", "     2\t    return text.lower().strip()"]  # what it left
    assert "return text.lower().strip()\n" in (root / "src" / "pkg" / "core.py").read_text(encoding="utf-8")


def test_edit_zero_matches(root: Path) -> None:
    before = (root / "setup.py").read_text(encoding="utf-8")
    args = {"file_path": "setup.py", "old_string": "setup(name='x')", "new_string": "y"}
    with pytest.raises(ToolError) as info:
        call(Edit(), args, Workspace(root))
    assert "setup.py" in str(info.value) and "not found" in str(info.value)
    assert (root / "setup.py").read_text(encoding="utf-8") == before


def test_edit_two_matches_says_how_many(root: Path) -> None:
    (root / "dup.py").write_text("x = 1\nx = 1\ny = 2\n", encoding="utf-8")
    with pytest.raises(ToolError) as info:
        call(Edit(), {"file_path": "dup.py", "old_string": "x = 1", "new_string": "x = 3"}, Workspace(root))
    assert "matches 2 times" in str(info.value)
    assert (root / "dup.py").read_text(encoding="utf-8") == "x = 1\nx = 1\ny = 2\n"


def test_edit_replace_all(root: Path) -> None:
    (root / "dup.py").write_text("x = 1\nx = 1\ny = 2\n", encoding="utf-8")
    args = {"file_path": "dup.py", "old_string": "x = 1", "new_string": "x = 3", "replace_all": True}
    assert call(Edit(), args, Workspace(root)).startswith("Edited dup.py: 2 replacements\n")
    assert (root / "dup.py").read_text(encoding="utf-8") == "x = 3\nx = 3\ny = 2\n"


def test_edit_empty_old_string_and_missing_file(root: Path) -> None:
    with pytest.raises(ToolError, match="old_string is empty"):
        call(Edit(), {"file_path": "setup.py", "old_string": "", "new_string": "x"}, Workspace(root))
    with pytest.raises(ToolError, match="no such file"):
        call(Edit(), {"file_path": "gone.py", "old_string": "a", "new_string": "b"}, Workspace(root))


# --- Glob ------------------------------------------------------------------------------------------


def test_glob_recursive(root: Path) -> None:
    out = call(Glob(), {"pattern": "**/*.py"}, Workspace(root))
    assert out.splitlines() == ["setup.py", "src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/util.py"]


def test_glob_under_a_path_and_skips_protected_dirs(root: Path) -> None:
    out = call(Glob(), {"pattern": "*.py", "path": "src/pkg"}, Workspace(root))
    assert out.splitlines() == ["src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/util.py"]
    everything = call(Glob(), {"pattern": "**/*"}, Workspace(root))
    assert ".git" not in everything and ".autodev" not in everything
    assert call(Glob(), {"pattern": "**/*.rs"}, Workspace(root)) == "No files matched."


def test_glob_refuses_escaping_patterns(root: Path) -> None:
    with pytest.raises(ToolError, match="inside the repository"):
        call(Glob(), {"pattern": "../**/*.txt"}, Workspace(root))
    with pytest.raises(ToolError):
        call(Glob(), {"pattern": "*", "path": ".git"}, Workspace(root))


def test_glob_does_not_follow_symlinks_out(root: Path, outside: Path) -> None:
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    out = call(Glob(), {"pattern": "**/*.txt"}, Workspace(root))
    assert "secret" not in out and "leak.txt" not in out


# --- Grep ------------------------------------------------------------------------------------------


def test_grep_reports_path_and_line(root: Path) -> None:
    out = call(Grep(), {"pattern": r"def \w+\("}, Workspace(root))
    assert out == "src/pkg/core.py:1: def slugify(text):"


def test_grep_never_searches_protected_dirs_or_outside(root: Path, outside: Path) -> None:
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    out = call(Grep(), {"pattern": "slugify"}, Workspace(root))
    assert ".git" not in out and ".autodev" not in out and "secret" not in out
    assert "README.md:2: slugify turns text into slugs" in out.splitlines()


def test_grep_with_path_glob_and_ignore_case(root: Path) -> None:
    ws = Workspace(root)
    assert call(Grep(), {"pattern": "Slugify"}, ws) == "src/pkg/util.py:2: TODO = 'Slugify later'"
    insensitive = call(Grep(), {"pattern": "SLUGIFY", "ignore_case": True, "path": "src"}, ws).splitlines()
    assert insensitive == ["src/pkg/core.py:1: def slugify(text):", "src/pkg/util.py:2: TODO = 'Slugify later'"]
    only_md = call(Grep(), {"pattern": "slug", "glob": "*.md"}, ws)
    assert only_md == "README.md:2: slugify turns text into slugs"
    one_file = call(Grep(), {"pattern": "import", "path": "src/pkg/util.py"}, ws)
    assert one_file == "src/pkg/util.py:1: import os"
    assert call(Grep(), {"pattern": "zebra"}, ws) == "No matches."


def test_grep_invalid_regex(root: Path) -> None:
    with pytest.raises(ToolError, match=r"invalid regular expression '\(unclosed'"):
        call(Grep(), {"pattern": "(unclosed"}, Workspace(root))


def test_grep_skips_binary_files(root: Path) -> None:
    (root / "blob.bin").write_bytes(b"slugify\x00\x01")
    assert "blob.bin" not in call(Grep(), {"pattern": "slugify"}, Workspace(root))


def build_search_tree(base: Path, outside: Path) -> Path:
    """Every kind of file Grep must treat the same way in both engines."""
    files: dict[str, bytes] = {
        "a/b.txt": b"needle in a/b\n",
        "a-c.txt": b"needle in a-c\n",  # sorts after a/b.txt by component, before it as a string
        "src/app.py": b"def needle():\n    return 42\n\n# needle again\n",
        "src/deep/er/mod.py": b"x = 'NEEDLE'\n" * 3,
        "crlf.txt": b"needle at end\r\nsecond needle\r\n",
        "no-newline.txt": b"last line has needle",
        "unicode.md": "caf\u00e9 needle \u2028 na\u00efve\n\u00c9T\u00c9 needle\n".encode(),
        "long.txt": b"needle " + b"z" * 1000 + b"\n",
        "binary.bin": b"needle\x00\x01\x02",
        "late-nul.txt": b"needle early\n" + b"x" * 9000 + b"\x00needle late\n",  # NUL after the 8 KB sniff
        "latin1.txt": "needle caf\u00e9\n".encode("latin-1"),
        "big.log": b"needle\n" * 400_000,  # over the 2 MB limit
        "empty.txt": b"",
        "blank-lines.txt": b"one\n\n\nfour\n",
        ".hidden/needle.txt": b"hidden needle\n",
        ".git/config": b"needle in git\n",
        ".autodev/state.json": b"needle in autodev\n",
        "nested/.git/HEAD": b"needle in nested git\n",
        "[weird] name!.txt": b"needle with a weird name\n",
        "-dash.txt": b"needle in a dash file\n",
    }
    root = base / "tree"
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "link-in.txt").symlink_to(root / "a-c.txt")
    (root / "link-out.txt").symlink_to(outside / "secret.txt")
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    return root


GREP_CASES: list[dict[str, Any]] = [
    {"pattern": "needle"},
    {"pattern": "NEEDLE", "ignore_case": True},
    {"pattern": "needle$"},
    {"pattern": "^$"},
    {"pattern": r"\d+"},
    {"pattern": "caf\u00e9|\u00e9t\u00e9", "ignore_case": True},
    {"pattern": "needle", "path": "src"},
    {"pattern": "needle", "glob": "*.py"},
    {"pattern": "needle", "path": "src/app.py"},
    {"pattern": "[[:digit:]]"},  # POSIX class: Python reads it differently from rg
    {"pattern": r"(?<=def )needle"},  # look-behind: rg refuses it, Python answers
    {"pattern": "-dash"},
    {"pattern": "zebra"},
]


@pytest.mark.parametrize("case", GREP_CASES, ids=[str(c) for c in GREP_CASES])
def test_grep_engines_agree(tmp_path: Path, outside: Path, case: dict[str, Any]) -> None:
    tree = build_search_tree(tmp_path, outside)
    python = call(Grep(use_rg=False), case, Workspace(tree))
    assert "secret" not in python and "in git" not in python and "autodev" not in python
    if shutil.which("rg") is None:
        pytest.skip("ripgrep is not installed: only the Python engine was checked")
    assert call(Grep(use_rg=True), case, Workspace(tree)) == python


def test_grep_results_are_sorted_by_path_then_line(tmp_path: Path, outside: Path) -> None:
    out = call(Grep(use_rg=False), {"pattern": "needle"}, Workspace(build_search_tree(tmp_path, outside)))
    assert out.split("\n") == [
        "-dash.txt:1: needle in a dash file",
        ".hidden/needle.txt:1: hidden needle",
        "[weird] name!.txt:1: needle with a weird name",
        "a/b.txt:1: needle in a/b",
        "a-c.txt:1: needle in a-c",
        "crlf.txt:1: needle at end",
        "crlf.txt:2: second needle",
        "late-nul.txt:1: needle early",
        "late-nul.txt:2: " + "x" * 300,
        "long.txt:1: needle " + "z" * 293,
        "no-newline.txt:1: last line has needle",
        "src/app.py:1: def needle():",
        "src/app.py:4: # needle again",
        "unicode.md:1: caf\u00e9 needle \u2028 na\u00efve",
        "unicode.md:2: \u00c9T\u00c9 needle",
    ]


def test_grep_stops_at_the_match_limit_in_order(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for index in range(30):
        (root / f"f{index:02}.txt").write_text("hit\n" * 10, encoding="utf-8")
    engines = [Grep(use_rg=False)] + ([Grep(use_rg=True)] if shutil.which("rg") else [])
    outputs = {call(engine, {"pattern": "hit"}, Workspace(root)) for engine in engines}
    assert len(outputs) == 1
    lines = outputs.pop().splitlines()
    assert (
        len(lines) == MAX_MATCHES + 1
        and lines[0] == "f00.txt:1: hit"
        and lines[-2] == f"f{MAX_MATCHES // 10 - 1:02}.txt:10: hit"
    )
    assert lines[-1].startswith(f"[stopped at {MAX_MATCHES} matches; narrow the pattern")


def test_grep_in_a_repository_skips_ignored_files(make_repo: MakeRepo) -> None:
    repo = make_repo({".gitignore": "build/\n*.log\n", "src/app.py": "needle = 1\n"})
    (repo / "build").mkdir()
    (repo / "build" / "out.py").write_text("needle = 2\n", encoding="utf-8")
    (repo / "debug.log").write_text("needle\n", encoding="utf-8")
    (repo / "notes.txt").write_text("needle, untracked but not ignored\n", encoding="utf-8")
    engines = [Grep(use_rg=False)] + ([Grep(use_rg=True)] if shutil.which("rg") else [])
    for engine in engines:
        assert call(engine, {"pattern": "needle"}, Workspace(repo)).splitlines() == [
            "notes.txt:1: needle, untracked but not ignored",
            "src/app.py:1: needle = 1",
        ]


# --- invoke, cap_output, RunTests --------------------------------------------------------------------


def test_invoke_turns_tool_errors_into_error_results(root: Path) -> None:
    ws = Workspace(root)
    result = invoked(Read(), {"file_path": "../outside/secret.txt"}, ws)
    assert result.is_error
    assert result.content.startswith("Error: ") and "'..'" in result.content
    ok = invoked(Read(), {"file_path": "setup.py"}, ws)
    assert not ok.is_error and "setup()" in ok.content


def test_invoke_caps_oversized_output(root: Path) -> None:
    class Loud:
        definition = ToolDefinition("Loud", "prints a lot", {"type": "object"})

        async def __call__(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
            return "x" * (DEFAULT_OUTPUT_CAP * 2)

    result = invoked(Loud(), {}, Workspace(root))
    assert not result.is_error
    assert len(result.content) < DEFAULT_OUTPUT_CAP + 200
    assert "characters omitted" in result.content


def test_cap_output_keeps_head_and_tail() -> None:
    text = "H" * 40 + "M" * 20 + "T" * 40
    capped = cap_output(text, limit=30)
    assert capped.startswith("H" * 20 + "\n[... 70 characters omitted")
    assert capped.endswith("...]\n" + "T" * 10)
    assert cap_output("short", limit=30) == "short"
    exact = "y" * 30
    assert cap_output(exact, limit=30) == exact


def test_run_tests_without_a_command(root: Path) -> None:
    result = invoked(RunTests(), {}, Workspace(root))
    assert result.is_error and "no test command" in result.content


def test_builtin_tools_use_claude_code_names() -> None:
    assert sorted(builtin_tools()) == ["Bash", "Edit", "Glob", "Grep", "Read", "RunTests", "Write"]
    for name, tool in builtin_tools().items():
        assert tool.definition.name == name
        assert tool.definition.input_schema["type"] == "object"
    assert Edit.definition.input_schema["required"] == ["file_path", "old_string", "new_string"]


@pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed")
def test_rg_finds_the_files_and_python_only_patterns_fall_back(tmp_path: Path, outside: Path) -> None:
    tree = build_search_tree(tmp_path, outside)

    async def main() -> tuple[set[str] | None, set[str] | None]:
        files = await grep_candidates(Workspace(tree), tree.resolve(), None)
        return (
            await _rg_files_with_matches(tree, files, "needle$", False),
            await _rg_files_with_matches(tree, files, r"(?<=def )needle", False),
        )

    found, unsupported = anyio.run(main)
    assert found is not None and {"crlf.txt", "no-newline.txt", "unicode.md"} <= found
    assert unsupported is None  # rg can't compile a look-behind: Grep searches with Python instead


def test_grep_pattern_with_a_nul_byte(root: Path) -> None:
    (root / "nul.txt").write_text("a\x00b\n", encoding="utf-8")
    for engine in (Grep(use_rg=False), Grep(use_rg=True)):
        result = invoked(engine, {"pattern": "\x00"}, Workspace(root))
        assert not result.is_error


# --- blocking file work stays off the event loop -------------------------------------------------------

WATCHDOG_S = 60.0  # only a broken build waits this long: then the loop was blocked and the test fails


class GatedWorkspace(Workspace):
    """A worktree whose path lookups wait until the test opens the gate: a disk that stalls on demand."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.entered, self.gate = threading.Event(), threading.Event()

    def resolve(self, path: str, *, for_write: bool = False) -> Path:
        self.entered.set()
        self.gate.wait(WATCHDOG_S)
        return super().resolve(path, for_write=for_write)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        (Read(), {"file_path": "README.md"}),
        (Write(), {"file_path": "new.txt", "content": "x\n"}),
        (Edit(), {"file_path": "README.md", "old_string": "Demo", "new_string": "Show"}),
        (Glob(), {"pattern": "**/*.py"}),
        (Grep(use_rg=False), {"pattern": "slugify"}),
    ],
    ids=["Read", "Write", "Edit", "Glob", "Grep"],
)
def test_a_tool_stalled_in_the_filesystem_does_not_stall_other_agents(
    root: Path, tool: Any, args: dict[str, Any]
) -> None:
    stalled = GatedWorkspace(root)
    results: list[ToolResult] = []

    async def slow_agent() -> None:
        results.append(await invoke(tool, args, ToolContext(stalled, "slow")))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(slow_agent)
            await anyio.to_thread.run_sync(stalled.entered.wait)  # the slow agent's tool is in the filesystem
            other = await invoke(Read(), {"file_path": "setup.py"}, ToolContext(Workspace(root), "other"))
            assert "setuptools" in other.content  # another agent ran to the end on the same loop ...
            assert results == []  # ... while the slow agent's call was still waiting
            stalled.gate.set()
        assert len(results) == 1 and not results[0].is_error, results

    anyio.run(main)


def test_writing_to_a_fifo_waits_in_a_thread_until_a_reader_comes(root: Path) -> None:
    """Opening a FIFO for writing blocks until someone opens it for reading: a real stall, not a simulated one."""
    os.mkfifo(root / "pipe")
    finished = threading.Event()

    def watchdog() -> None:
        """A broken build blocks the loop in open(): unblock it, so the test fails instead of hanging."""
        if not finished.wait(WATCHDOG_S):
            os.close(os.open(root / "pipe", os.O_RDONLY | os.O_NONBLOCK))

    threading.Thread(target=watchdog, daemon=True).start()

    async def main() -> ToolResult:
        async with anyio.create_task_group() as group:
            results: list[ToolResult] = []

            async def writer() -> None:
                results.append(await invoke(Write(), {"file_path": "pipe", "content": "through"}, ctx))

            ctx = ToolContext(Workspace(root), "writer")
            group.start_soon(writer)
            other = await invoke(Glob(), {"pattern": "**/*.py"}, ToolContext(Workspace(root), "other"))
            assert "setup.py" in other.content and results == []  # the loop went on; the write still waits
            reader = os.open(root / "pipe", os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open() return
        try:
            assert os.read(reader, 100) == b"through"
        finally:
            os.close(reader)
            finished.set()
        return results[0]

    assert not anyio.run(main).is_error
