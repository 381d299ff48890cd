"""The sandbox, adversarially: every way out of the worktree, write scopes, what agents are offered, Read's limits."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripts import trust_repo

from autodev.agent.specs import AgentSpec, load_agents
from autodev.config.settings import load_settings
from autodev.core.errors import UserError
from autodev.run.toolset import configured_tools, scope_for, tools_for_agent
from autodev.sandbox.scopes import WriteScope
from autodev.sandbox.workspace import ToolError, Workspace, protected_name
from autodev.tools.base import ToolContext, ToolResult, invoke
from autodev.tools.files import MAX_READ_BYTES, Edit, Read, Write, builtin_tools

BUILTIN = load_agents(None)


def agent_spec(name: str) -> AgentSpec:
    """The bundled agent `name`, or an agent file with no capabilities for any other name."""
    return BUILTIN.get(name) or AgentSpec(name=name, description="d", prompt="p", source=Path(f"{name}.md"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    for rel, text in {
        "src/pkg/core.py": "def slugify(text):\n    return text.lower()\n",
        "tests/test_core.py": "def test_x():\n    pass\n",
        "README.md": "# Demo\n",
        "docs/guide.md": "# Guide\n",
        ".git/config": "[remote]\nurl = https://user:token@example.invalid\n",
        ".autodev/runs/r1/state.json": "{}\n",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n", encoding="utf-8")
    return outside


def invoked(tool: Any, args: Mapping[str, Any], workspace: Workspace, agent: str = "tester") -> ToolResult:
    async def main() -> ToolResult:
        return await invoke(tool, args, ToolContext(workspace, agent))

    return anyio.run(main)


def scoped(root: Path, agent: str) -> Workspace:
    return Workspace(root).for_agent(scope_for(agent_spec(agent)))


# --- containment -------------------------------------------------------------------------------------

TRAVERSALS = [
    ("../outside/secret.txt", "'..'"),
    ("a/../../outside/secret.txt", "'..'"),
    ("src/../../outside", "'..'"),
    ("..", "'..'"),
    ("../", "'..'"),
    ("..\\outside\\secret.txt", "'..'"),
    ("src/pkg/../../..", "'..'"),
    ("/etc/passwd", "absolute"),
    ("//etc/passwd", "absolute"),
    ("/", "absolute"),
    ("C:\\Windows\\system.ini", "absolute"),
    ("C:/Windows/system.ini", "absolute"),
    ("c:relative-to-drive.txt", "absolute"),
    ("\\\\server\\share\\file.txt", "absolute"),
    ("//server/share/file.txt", "absolute"),
    ("\\\\?\\C:\\file.txt", "absolute"),
    ("\\etc\\passwd", "absolute"),
    (".git/config", ".git/"),
    ("./.git/config", ".git/"),
    (".GIT/config", ".GIT/"),
    (".Git/", ".Git/"),
    (".git", ".git/"),
    ("src/.git/config", ".git/"),  # a nested repository's .git is off limits too
    (".git./config", ".git./"),  # Windows drops trailing dots
    (".git /config", ".git /"),  # ... and trailing spaces
    (".git::$INDEX_ALLOCATION/config", "off limits"),  # NTFS stream syntax
    ("GIT~1/config", "GIT~1/"),  # 8.3 short name
    (".g\u200cit/config", "off limits"),  # HFS+ ignores zero-width non-joiner
    ("\ufeff.git/config", "off limits"),  # ... and the byte-order mark
    (".gıt/config", "off limits"),  # dotless i upper-cases to I
    (".autodev/runs", ".autodev/"),
    (".AUTODEV/runs/r1/state.json", ".AUTODEV/"),
    ("AUTODE~1/runs", "off limits"),
    ("src/\x00core.py", "NUL"),
    ("src/core.py\x00.md", "NUL"),
    ("src/\ncore.py", "control character"),
    ("src/\x1b[31m", "control character"),
    ("\ud800.py", "not valid Unicode"),
    ("a" * 5000, "characters long"),
    ("x" * 300 + "/y.txt", "255 bytes"),
    ("", "path is required"),
    ("   ", "path is required"),
]


@pytest.mark.parametrize(("path", "needle"), TRAVERSALS)
def test_traversal_is_refused_and_recorded(root: Path, path: str, needle: str) -> None:
    ws = Workspace(root)
    with pytest.raises(ToolError) as info:
        ws.resolve(path)
    assert needle in str(info.value)
    assert ws.refusals == [str(info.value)]
    result = invoked(Read(), {"file_path": path}, ws)  # the same through a tool: an error result, no exception
    assert result.is_error and result.content.startswith("Error: ")
    assert len(ws.refusals) == 2


@pytest.mark.parametrize("path", ["../x.txt", "/tmp/x.txt", ".git/hooks/pre-commit", ".GIT/hooks/post-checkout"])
def test_traversal_writes_touch_nothing(root: Path, tmp_path: Path, path: str) -> None:
    result = invoked(Write(), {"file_path": path, "content": "#!/bin/sh\necho pwned\n"}, Workspace(root))
    assert result.is_error
    assert not (tmp_path / "x.txt").exists()
    assert not (root / ".git" / "hooks").exists()


def test_names_that_only_look_dangerous_stay_inside(root: Path) -> None:
    ws = Workspace(root)
    # `~` never expands: it is a directory literally named "~" inside the worktree.
    assert ws.resolve("~/notes.txt") == root.resolve() / "~" / "notes.txt"
    assert not invoked(Write(), {"file_path": "~/.bashrc", "content": "x\n"}, ws).is_error
    assert (root / "~" / ".bashrc").read_text(encoding="utf-8") == "x\n"
    # Fullwidth look-alikes are different names on every real file system: harmless.
    assert ws.resolve("．git/config") == root.resolve() / "．git" / "config"
    assert ws.resolve("．ｇｉｔ/config").parent.name == "．ｇｉｔ"
    for fine in ("src/.gitignore", ".github/workflows/ci.yml", ".gitattributes", "a..b.txt", "src/...", "git"):
        assert ws.resolve(fine).is_relative_to(root.resolve()), fine
    assert ws.refusals == []


def test_protected_names_in_every_normal_form() -> None:
    for name in (".git", ".autodev"):
        for form in ("NFC", "NFD", "NFKC", "NFKD"):
            assert protected_name(unicodedata.normalize(form, name)) == name
            assert protected_name(unicodedata.normalize(form, name.upper())) == name
    assert protected_name("．git") is None  # fullwidth full stop: a different file
    assert protected_name(".gitignore") is None and protected_name(".github") is None


def test_symlinks_out_are_refused_in_every_shape(root: Path, outside: Path) -> None:
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    (root / "src" / "hop").symlink_to(root / "vendor", target_is_directory=True)  # inside -> inside -> out
    (root / "relative").symlink_to("../outside/secret.txt")
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    (root / "innocent").symlink_to(root / ".git", target_is_directory=True)
    (root / "state").symlink_to(root / ".autodev" / "runs" / "r1" / "state.json")
    ws = Workspace(root)
    for path, needle in [
        ("leak.txt", "outside the repository"),
        ("vendor/secret.txt", "outside the repository"),
        ("vendor", "outside the repository"),
        ("src/hop/secret.txt", "outside the repository"),
        ("relative", "outside the repository"),
        ("loop-a", "cannot be resolved"),
        ("innocent/config", ".git/"),
        ("state", ".autodev/"),
    ]:
        with pytest.raises(ToolError, match=needle):
            ws.resolve(path)
    assert len(ws.refusals) == 8
    for path in ("vendor/new.txt", "leak.txt", "src/hop/x.py"):
        assert invoked(Write(), {"file_path": path, "content": "pwned"}, ws).is_error
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text(encoding="utf-8") == "top secret\n"


def test_each_agent_view_counts_its_own_refusals(root: Path) -> None:
    ws = Workspace(root)
    reviewer, tester = ws.for_agent(scope_for(BUILTIN["reviewer"])), ws.for_agent(scope_for(BUILTIN["test-master"]))
    assert reviewer.root == tester.root == ws.root
    assert invoked(Write(), {"file_path": "x.md", "content": "x"}, reviewer).is_error
    assert invoked(Read(), {"file_path": "../x"}, tester).is_error
    assert invoked(Read(), {"file_path": "/etc/passwd"}, tester).is_error
    assert (len(reviewer.refusals), len(tester.refusals)) == (1, 2)  # each agent's record counts its own


# --- write scopes ------------------------------------------------------------------------------------


def test_test_master_writes_only_tests(root: Path) -> None:
    ws = scoped(root, "test-master")
    refused = invoked(Write(), {"file_path": "src/pkg/core.py", "content": "x = 1\n"}, ws)
    assert refused.is_error
    assert "outside test-master's write scope" in refused.content and "tests/**" in refused.content
    assert "slugify" in (root / "src" / "pkg" / "core.py").read_text(encoding="utf-8")
    edit = {"file_path": "src/pkg/core.py", "old_string": "lower", "new_string": "upper"}
    assert invoked(Edit(), edit, ws).is_error
    for path in ("tests/test_new.py", "tests/unit/helpers.py", "src/pkg/test_core.py", "conftest.py", "pkg_test.py"):
        assert not invoked(Write(), {"file_path": path, "content": "x = 1\n"}, ws).is_error, path
    assert "test-master" in ws.refusals[0]


def test_doc_master_writes_only_docs(root: Path) -> None:
    ws = scoped(root, "doc-master")
    for path in ("src/pkg/new.py", "setup.py", "tests/test_x.py", "src/pkg/a.py", "requirements.txt", "docs/conf.py"):
        result = invoked(Write(), {"file_path": path, "content": "x"}, ws)
        assert result.is_error and "doc-master may write only" in result.content, path
    for path in ("README.md", "docs/guide.md", "docs/api/index.rst", "src/pkg/NOTES.md", "CHANGELOG", "LICENSE.txt"):
        assert not invoked(Write(), {"file_path": path, "content": "# x\n"}, ws).is_error, path
    assert not (root / "setup.py").exists()


def test_scope_applies_to_where_a_symlink_leads(root: Path) -> None:
    (root / "docs" / "code").symlink_to(root / "src" / "pkg", target_is_directory=True)
    result = invoked(Write(), {"file_path": "docs/code/core.py", "content": "pwned"}, scoped(root, "doc-master"))
    assert result.is_error and "src/pkg/core.py" in result.content
    assert "slugify" in (root / "src" / "pkg" / "core.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("agent", ["reviewer", "security-auditor", "planner", "issue-creator", "researcher-local"])
def test_read_only_agents_write_nothing(root: Path, agent: str) -> None:
    ws = scoped(root, agent)
    for path in ("README.md", "tests/test_x.py", "notes.txt"):
        result = invoked(Write(), {"file_path": path, "content": "x"}, ws)
        assert result.is_error and f"{agent} is read-only" in result.content
    assert invoked(Edit(), {"file_path": "README.md", "old_string": "Demo", "new_string": "X"}, ws).is_error
    assert "Demo" in invoked(Read(), {"file_path": "README.md"}, ws).content
    assert (root / "README.md").read_text(encoding="utf-8") == "# Demo\n"


def test_implementer_and_unknown_agents_write_anywhere_but_git(root: Path) -> None:
    for agent in ("implementer", "my-custom-agent"):
        ws = scoped(root, agent)
        assert scope_for(agent_spec(agent)).unrestricted
        assert not invoked(Write(), {"file_path": f"src/{agent}.py", "content": "x"}, ws).is_error
        assert invoked(Write(), {"file_path": ".git/config", "content": "x"}, ws).is_error


def test_write_scope_matching() -> None:
    tests = WriteScope("t", ("tests/**", "**/test_*.py", "*.md"))
    assert tests.allows("tests/a/b.py") and tests.allows("src/test_x.py") and tests.allows("test_x.py")
    assert tests.allows("README.md") and not tests.allows("docs/README.md")  # `*` stays in one directory
    assert not tests.allows("src/x.py") and not tests.allows("tests") and not tests.allows("mytests/x.py")
    assert WriteScope("r", ()).read_only and not WriteScope("r", ()).allows("x")
    docs = WriteScope("d", ("docs/**", "*.txt", "!**/*.py", "!requirements*.txt"))
    assert docs.allows("docs/a/b.md") and docs.allows("notes.txt")
    assert not docs.allows("docs/conf.py") and not docs.allows("requirements-dev.txt")
    assert WriteScope("x", ("!*.py",)).read_only and not WriteScope("i", ("**", "!secrets/**")).unrestricted


def test_write_scopes_from_config(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".autodev").mkdir(parents=True)
    (repo / ".autodev" / "config.toml").write_text(
        '[write_scopes]\ntest-master = ["spec/**"]\nreviewer = ["REVIEW.md"]\n', encoding="utf-8"
    )
    trust_repo(repo)
    settings = load_settings(repo, env={})
    assert scope_for(BUILTIN["test-master"], settings).patterns == ("spec/**",)
    assert scope_for(BUILTIN["test-master"], settings).source.endswith("config.toml")
    assert scope_for(BUILTIN["reviewer"], settings).allows("REVIEW.md")
    assert scope_for(BUILTIN["doc-master"], settings).patterns == BUILTIN["doc-master"].write_scope  # untouched
    (repo / ".autodev" / "config.toml").write_text('[write_scopes]\nx = ["../outside/**"]\n', encoding="utf-8")
    with pytest.raises(UserError, match="relative to the repository root"):
        load_settings(repo, env={})


# --- what each agent is offered ----------------------------------------------------------------------


def spec(name: str, tools: tuple[str, ...] | None) -> AgentSpec:
    """The bundled agent `name`'s capabilities (its write scope) with `tools`."""
    return replace(agent_spec(name), tools=tools)


def test_read_only_agents_are_never_offered_writing_tools(tmp_path: Path) -> None:
    available = builtin_tools()
    everything = ("Read", "Write", "Edit", "Glob", "Grep", "Bash", "RunTests")
    for name in ("reviewer", "security-auditor", "planner", "issue-creator", "researcher-local"):
        offered = tools_for_agent(spec(name, everything), None, available)
        assert not {"Write", "Edit"} & set(offered), name
        assert "Bash" in offered and not offered["Bash"].can_write  # read-only programs only
    builtin = load_agents(None)
    for name, agent in builtin.items():
        offered = tools_for_agent(agent, None, available)
        if scope_for(agent).read_only:
            assert not {"Write", "Edit"} & set(offered), name
    assert {"Write", "Edit"} <= set(tools_for_agent(builtin["implementer"], None, available))


def test_a_bash_that_can_write_goes_only_to_unrestricted_agents(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    settings.bash_allow = [*settings.bash_allow, "python"]
    available = configured_tools(settings)
    assert available["Bash"].can_write
    tools = ("Read", "Write", "Bash")
    assert "Bash" in tools_for_agent(spec("implementer", tools), settings, available)
    assert "Bash" not in tools_for_agent(spec("test-master", tools), settings, available)
    assert "Bash" not in tools_for_agent(spec("reviewer", tools), settings, available)
    without_worktree = tools_for_agent(spec("implementer", tools), settings, available, read_only=True)
    assert sorted(without_worktree) == ["Read"]


def test_bash_permission_patterns_narrow_the_commands(root: Path) -> None:
    offered = tools_for_agent(spec("reviewer", ("Read", "Bash(git log:*)", "Bash(ls)")), None, builtin_tools())
    bash = offered["Bash"]
    ws = Workspace(root)
    assert bash.check(["git", "log", "--oneline"], ws) == [
        "git", "log", "--no-ext-diff", "--no-textconv", "--no-notes", "--oneline",
    ]  # fmt: skip
    assert bash.check(["ls"], ws) == ["ls"]
    for argv in (["git", "status"], ["ls", "-la"], ["cat", "README.md"]):
        with pytest.raises(ToolError, match=r"may run only these commands: git log \.\.\., ls"):
            bash.check(argv, ws)
    assert "git log ..." in bash.definition.description


# --- Read's limits -----------------------------------------------------------------------------------


def test_read_refuses_binary_huge_and_non_utf8_with_reasons(root: Path) -> None:
    ws = Workspace(root)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with (root / "huge.log").open("wb") as handle:
        handle.truncate(MAX_READ_BYTES + 1)
    expectations = {
        "logo.png": "binary file (",
        "latin1.txt": "not UTF-8 text (invalid byte at offset 3)",
        "huge.log": "larger than the 2.0 MB Read limit; use Grep",
        "src": "it is a directory; use Glob",
    }
    for path, needle in expectations.items():
        result = invoked(Read(), {"file_path": path}, ws)
        assert result.is_error and needle in result.content, (path, result.content)


def test_read_line_ranges_empty_files_and_long_lines(root: Path) -> None:
    ws = Workspace(root)
    (root / "empty.txt").write_text("", encoding="utf-8")
    assert invoked(Read(), {"file_path": "empty.txt"}, ws).content == "empty.txt: empty file"
    (root / "minified.js").write_text("x" * 5000 + "\nshort\n", encoding="utf-8")
    out = invoked(Read(), {"file_path": "minified.js"}, ws).content
    assert "[... line cut; 3000 more characters]" in out and out.endswith("     2\tshort")
    (root / "many.txt").write_text("".join(f"line {i}\n" for i in range(1, 101)), encoding="utf-8")
    middle = invoked(Read(), {"file_path": "many.txt", "offset": 40, "limit": 2}, ws).content
    assert middle == "    40\tline 40\n    41\tline 41\n[59 more lines; use offset 42]"


def test_read_output_is_capped_head_and_tail_with_a_way_to_the_rest(root: Path) -> None:
    (root / "wide.txt").write_text("".join(f"{i:05} " + "y" * 90 + "\n" for i in range(1, 2001)), encoding="utf-8")
    out = invoked(Read(), {"file_path": "wide.txt"}, Workspace(root)).content
    assert len(out) < 13_000  # Read's own cap, sized for small agents (issue 20)
    assert out.startswith("     1\t00001 ") and out.rstrip().endswith("[1750 more lines; use offset 251]")
    assert "characters omitted (" in out and "Read again with offset/limit" in out
