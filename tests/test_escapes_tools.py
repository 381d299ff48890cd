"""Issue #16 findings 4, 5, 6 and 8, closed in the tools themselves: each test is the reproduction.

A hostile model reaches outside the worktree through the options of the default Bash programs (file
lists, `--`, glued values, argument files, directory diffs), through git's refs (the user's stash and
branches) and repository config (fsmonitor, textconv), through a docs-only write scope (a doctest the
gate runs), and a hostile repository through a committed `.autodev` symlink.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from conftest import MakeRepo

from autodev.agent.specs import builtin_agents_dir, load_agent_file
from autodev.apps.cli.main import main
from autodev.sandbox.scopes import WriteScope
from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext, ToolResult, invoke
from autodev.tools.bash import Bash, tool_environment

SECRET = "TOPSECRET-42"


def run(command: str | list[str], root: Path, workspace: Workspace | None = None) -> ToolResult:
    async def main_() -> ToolResult:
        return await invoke(Bash(), {"command": command}, ToolContext(workspace or Workspace(root), "tester"))

    return anyio.run(main_)


def assert_refused(command: str | list[str], root: Path, needle: str = "") -> str:
    result = run(command, root)
    assert result.is_error, (command, result.content)
    assert SECRET not in result.content and "hunter2" not in result.content, result.content
    assert needle in result.content, result.content
    return result.content


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env)
    return done.stdout


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    place = tmp_path / "outside"
    place.mkdir()
    (place / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    return place


@pytest.fixture
def root(tmp_path: Path, outside: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[remote]\ntoken = hunter2\n", encoding="utf-8")
    (root / "linkfile").symlink_to(outside / "secret.txt")
    return root


# --- finding 4: options that name files ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["sort", "--files0-from=list0"],
        ["sort", "--files0-from", "list0"],
        ["sort", "--files0", "list0"],  # an abbreviation getopt_long accepts
        ["wc", "--files0-from=list0"],
        ["wc", "-l", "--files0-from", "list0"],
        ["find", "-files0-from", "list0", "-printf", "%p %s\n"],
    ],
)
@pytest.mark.parametrize("listed", ["outside", ".git/config"])
def test_a_file_list_cannot_name_files_outside_or_in_git(
    root: Path, outside: Path, command: list[str], listed: str
) -> None:
    target = str(outside / "secret.txt") if listed == "outside" else ".git/config"
    (root / "list0").write_bytes(target.encode() + b"\0")
    content = assert_refused(command, root, "reads file names from a file")
    assert "secret.txt" not in content


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["grep", "-flinkfile", "a.txt"], "outside the repository"),  # glued short value
        (["grep", "--file", "linkfile", "a.txt"], "outside the repository"),
        (["grep", "--exclude-from=linkfile", "-r", "x", "."], "outside the repository"),
        (["diff", "--from-file=linkfile", "a.txt"], "outside the repository"),
        (["diff", "--to-file", "linkfile", "a.txt"], "outside the repository"),
        (["diff", "-Xlinkfile", "a.txt", "a.txt"], "outside the repository"),
        (["rg", "--ignore-file", "linkfile", "x"], "outside the repository"),
        (["rg", "-flinkfile"], "outside the repository"),
        (["find", ".", "-newer", "linkfile"], "outside the repository"),
        (["find", ".", "-samefile", "linkfile"], "outside the repository"),
        (["git", "blame", "-Slinkfile", "a.txt"], "git -S (in -Slinkfile) is not allowed"),
        (["git", "blame", "--contents", "linkfile", "a.txt"], "outside the repository"),
        (["git", "ls-files", "-Xlinkfile"], "outside the repository"),
        (["git", "grep", "-flinkfile"], "outside the repository"),
        (["ruff", "check", "--config", "linkfile", "."], "outside the repository"),
        (["sort", "-olinkfile", "a.txt"], "sort -o (in -olinkfile) is not allowed"),
        (["sort", "--random-source=linkfile", "-R", "a.txt"], "not allowed"),
        (["rg", "--pre-glob=*", "x"], "runs programs"),
        (["rg", "-z", "x"], "runs decompression programs"),
        (["cat", "--no-such-option", "a.txt"], "not an option this tool allows"),
        (["diff", "-l", "a.txt", "a.txt"], "diff -l is not allowed: it runs a program (pr)"),
        (["find", ".", "-fprint0", "out"], "find -fprint0 is not allowed"),
        (["find", ".", "-newerXY", "a.txt"], "not a primary this tool allows"),
    ],
)
def test_option_values_that_name_files_are_resolved_or_refused(root: Path, command: list[str], needle: str) -> None:
    assert_refused(command, root, needle)
    assert not (root / "out").exists()


def test_the_generic_path_check_sees_values_glued_inside_short_clusters(root: Path) -> None:
    """For a program a user adds to the allow-list (no rule of ours), any tail of `-xyVALUE` is resolved."""
    ws = Workspace(root)
    with pytest.raises(ToolError, match="outside the repository"):
        Bash(["printf"]).check(["printf", "-vlinkfile", "x"], ws)


def test_diff_of_directories_does_not_follow_symlinks_inside_them(root: Path, outside: Path) -> None:
    (root / "d1").mkdir()
    (root / "d2").mkdir()
    (root / "d1" / "f").symlink_to(outside / "secret.txt")
    (root / "d2" / "f").write_text("x\n", encoding="utf-8")
    result = run("diff d1 d2", root)
    assert not result.is_error and SECRET not in result.content, result.content


# --- finding 5: `--` ends the options -----------------------------------------------------------------


@pytest.fixture
def with_ruff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ruff of this environment on PATH, so a command that gets through really runs."""
    here = Path(sys.executable).parent
    if (here / "ruff").exists():
        monkeypatch.setenv("PATH", f"{here}{os.pathsep}{os.environ.get('PATH', '')}")
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed")


@pytest.mark.usefixtures("with_ruff")
@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["ruff", "format", "--", "--check", "ugly.py"], "add --check or --diff"),
        (["ruff", "format", "--", "--diff", "ugly.py"], "add --check or --diff"),
        (["ruff", "@args"], "reads more arguments from a file"),
        (["ruff", "check", "@args"], "reads more arguments from a file"),
        (["ruff", "check", "--config", "fix = true", "ugly.py"], "inline settings are not allowed"),
        (["ruff", "format", "--check", "--config=extend='x.toml'", "ugly.py"], "inline settings are not allowed"),
        (["ruff", "check", "--cache-dir", "c", "ugly.py"], "not allowed"),
    ],
)
def test_ruff_never_rewrites_a_file(root: Path, command: list[str], needle: str) -> None:
    ugly = root / "ugly.py"
    ugly.write_text("x=1;import os\n", encoding="utf-8")
    (root / "args").write_text("format\nugly.py\n", encoding="utf-8")
    result = run(command, root, Workspace(root, read_only=True))
    assert result.is_error and needle in result.content, result.content
    assert ugly.read_text(encoding="utf-8") == "x=1;import os\n"
    assert not (root / "c").exists()


# --- finding 8: git reads HEAD's history and the worktree, nothing else -------------------------------


@pytest.fixture
def repo_with_others(make_repo: MakeRepo) -> tuple[Path, dict[str, str]]:
    """A repository whose user has another branch, a stash and a tag the run has no business reading."""
    repo = make_repo({"a.txt": "one\n"})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text(f"branch {SECRET}\n", encoding="utf-8")
    git(repo, "commit", "-qam", f"branch {SECRET}")
    other = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text(f"stash {SECRET}\n", encoding="utf-8")
    git(repo, "stash", "-q")
    git(repo, "tag", "v1", other)
    git(repo, "notes", "add", "-m", f"note {SECRET}", "HEAD")
    (repo / "patterns").write_text("TOPSECRET\n", encoding="utf-8")
    (repo / "b.txt").write_text("two\n", encoding="utf-8")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "second")
    ids = {"stash": git(repo, "rev-parse", "stash").strip(), "other": other}
    ids |= {"head": git(repo, "rev-parse", "HEAD").strip(), "first": git(repo, "rev-parse", "HEAD~1").strip()}
    return repo, ids


def test_git_may_not_read_the_users_stash_branches_or_reflog(repo_with_others: tuple[Path, dict[str, str]]) -> None:
    repo, ids = repo_with_others
    for command in [
        "git show stash@{0}",
        "git log --all -p",
        "git log --branches -p",
        "git log --remotes",
        "git log --glob=refs/* -p",
        "git log --reflog -p",
        "git log -g -p",
        "git log --walk-reflogs",
        "git log -p refs/stash",
        "git show stash",
        "git log -p other",
        "git show other:a.txt",
        "git show v1",
        "git diff HEAD other",
        "git diff HEAD..other",
        f"git show {ids['stash']}",
        f"git show {ids['stash'][:8]}",
        f"git log -p {ids['other'][:12]}",
        f"git show {ids['stash']}:a.txt",
        "git show :/stash",
        "git show HEAD@{1}",
        "git rev-parse stash",
        "git rev-parse --all",
        "git rev-parse --disambiguate=0",
        "git grep -n TOPSECRET other",
        "git grep -fpatterns other",  # a glued -f: `other` is a revision, not the pattern
        "git log -p -U stash",  # -U takes its value glued only: `stash` is a revision
        "git show --unified stash",
        "git diff -L other",
        "git grep -nfpatterns other",
        "git blame other -- a.txt",
        "git ls-files --with-tree=other",
        "git blame --ignore-rev other a.txt",
        "git log --notes=refs/notes/commits",
        "git show --show-notes HEAD~1",
    ]:
        result = run(command, repo)
        assert result.is_error, (command, result.content)
        assert SECRET not in result.content, (command, result.content)
        assert ids["stash"] in command or ids["stash"] not in result.content, (command, result.content)
    for command in ("git log -p", "git show HEAD~1", "git log --format=%N%s"):  # allowed, without the user's notes
        result = run(command, repo)
        assert not result.is_error and "initial" in result.content and SECRET not in result.content, result.content


def test_git_reads_head_its_ancestors_and_the_worktree(repo_with_others: tuple[Path, dict[str, str]]) -> None:
    repo, ids = repo_with_others
    for command, expected in [
        ("git log --format=%s", "second\ninitial"),
        ("git log --format=%s HEAD~1", "initial"),
        (f"git log --format=%s {ids['first'][:10]}", "initial"),
        (f"git show --format=%s -s {ids['head']}", "second"),
        ("git show HEAD~1:a.txt", "one"),
        ("git show HEAD^{commit}:b.txt", "two"),
        ("git diff --stat HEAD~1..HEAD", "b.txt"),
        ("git log -n 1 --format=%s -- a.txt", "initial"),
        ("git log --author t -n1 --format=%s", "second"),
        ("git grep -n one HEAD~1", "HEAD~1:a.txt:1:one"),
        ("git grep -e two", "b.txt:two"),
        ("git blame --porcelain a.txt", "one"),
        ("git ls-files", "a.txt\nb.txt"),
        ("git status --short", ""),
        ("git rev-parse --abbrev-ref HEAD", "main"),
        ("git show :b.txt", "two"),
        ("git log -L1,2:a.txt --format=%s", "initial"),  # no tail of a glued value taken for a path
        ("git log -Sa/b --format=%s", ""),
        ("git diff --text HEAD~1", "+two"),
        ("git diff -U1 HEAD~1", "+two"),
        ("git log -n 1 --format=%s", "second"),
    ]:
        result = run(command, repo)
        assert not result.is_error and result.content.startswith("exit 0\n"), (command, result.content)
        assert expected in result.content, (command, result.content)


def test_git_diff_no_index_compares_files_not_directories(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "one\n", "sub/b.txt": "two\n"})
    (repo / ".git" / "config").write_text((repo / ".git" / "config").read_text() + "# hunter2\n", encoding="utf-8")
    assert_refused("git diff --no-index . sub", repo, "compare files here, not directories")
    assert "+two" in run("git diff --no-index a.txt sub/b.txt", repo).content
    assert_refused("git grep --no-index hunter2", repo, "not allowed")


def test_agents_git_ignores_programs_in_repository_config(make_repo: MakeRepo, tmp_path: Path) -> None:
    """core.fsmonitor, diff.external, textconv and filter drivers planted in .git/config never run."""
    repo = make_repo({"a.txt": "one\n", ".gitattributes": "*.txt diff=evil filter=evil\n"})
    markers = tmp_path / "markers"
    markers.mkdir()
    for name, key in [
        ("fsmonitor", "core.fsmonitor"),
        ("external", "diff.external"),
        ("textconv", "diff.evil.textconv"),
        ("clean", "filter.evil.clean"),
        ("gpg", "gpg.program"),
    ]:
        program = tmp_path / name
        program.write_text(f"#!/bin/sh\ntouch '{markers / name}'\ncat\n", encoding="utf-8")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
        git(repo, "config", key, str(program))
    (repo / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    for command in [
        "git status",
        "git diff",
        "git diff HEAD",
        "git log -p",
        "git show HEAD",
        "git log --format=%G?",
        "git blame a.txt",
        "git grep -n one",
        "git ls-files -m",
    ]:
        result = run(command, repo)
        assert not result.is_error, (command, result.content)
    assert sorted(path.name for path in markers.iterdir()) == []
    assert_refused("git diff --ext-diff", repo, "it runs a program")
    assert_refused("git log -p --textconv", repo, "it runs a program")
    assert_refused("git log --show-signature", repo, "it runs a program")


def test_tool_environment_pins_gits_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.fsmonitor")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "/planted")
    env = tool_environment(tmp_path)
    pins = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert pins["core.fsmonitor"] == "false" and pins["core.hooksPath"] == "/dev/null"
    assert pins["diff.external"] == "" and pins["core.pager"] == "cat" and pins["protocol.allow"] == "never"
    assert pins["safe.directory"] == "*" and pins["core.untrackedCache"] == "false"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_CEILING_DIRECTORIES"] == str(tmp_path.parent)


# --- finding 6: a docs scope cannot create files the test runner runs ---------------------------------


def doc_master_scope() -> WriteScope:
    spec = load_agent_file(builtin_agents_dir() / "doc-master.md")
    assert spec.write_scope is not None
    return WriteScope("doc-master", spec.write_scope)


@pytest.mark.parametrize(
    "path",
    ["docs/test_guide.txt", "test_notes.txt", "docs/tests/guide.md", "tests/README.md", "docs/test/notes.rst"],
)
def test_doc_master_may_not_write_what_the_test_runner_collects(tmp_path: Path, path: str) -> None:
    workspace = Workspace(tmp_path).for_agent(doc_master_scope())
    with pytest.raises(ToolError, match="the test runner collects and runs this file"):
        workspace.resolve(path, for_write=True)
    assert workspace.resolve("docs/guide.md", for_write=True) == (tmp_path / "docs" / "guide.md").resolve()
    assert workspace.resolve("docs/usage.txt", for_write=True).name == "usage.txt"


def test_scopes_that_cover_tests_still_write_them(tmp_path: Path) -> None:
    test_master = load_agent_file(builtin_agents_dir() / "test-master.md").write_scope
    implementer = load_agent_file(builtin_agents_dir() / "implementer.md").write_scope
    assert test_master is not None and implementer is not None
    for scope in (WriteScope("test-master", test_master), WriteScope("implementer", implementer)):
        workspace = Workspace(tmp_path).for_agent(scope)
        workspace.resolve("tests/test_x.py", for_write=True)
        workspace.resolve("tests/conftest.py", for_write=True)
    narrow = Workspace(tmp_path).for_agent(WriteScope("notes", ("**/*.txt",)))
    narrow.resolve("notes.txt", for_write=True)
    with pytest.raises(ToolError, match="test runner"):
        narrow.resolve("pkg/test_cases.txt", for_write=True)


# --- finding 8: a `.autodev` that is not a plain directory in the repository ------------------------


@pytest.mark.parametrize("what", ["symlink", "runs-symlink", "config-symlink", "cache-file-symlink", "file"])
def test_a_committed_autodev_symlink_is_refused(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    repo = make_repo({"README.md": "# p\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if what == "symlink":
        (repo / ".autodev").symlink_to(elsewhere, target_is_directory=True)
    elif what == "file":
        (repo / ".autodev").write_text("not a directory\n", encoding="utf-8")
    elif what == "cache-file-symlink":  # autodev appends to the cache: it would append to ~/.bashrc
        (repo / ".autodev" / "cache").mkdir(parents=True)
        (elsewhere / "bashrc").write_text("# the user's\n", encoding="utf-8")
        (repo / ".autodev" / "cache" / "performance_metrics.jsonl").symlink_to(elsewhere / "bashrc")
    else:
        (repo / ".autodev").mkdir()
        name = "runs" if what == "runs-symlink" else "config.toml"
        (elsewhere / "config.toml").write_text('provider = "scripted"\n', encoding="utf-8")
        (repo / ".autodev" / name).symlink_to(elsewhere / name if name == "config.toml" else elsewhere)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hostile .autodev")
    before = sorted(path.name for path in elsewhere.iterdir())
    run_argv = ["run", "add a thing", "--repo", str(repo), "--provider", "scripted"]
    for argv in (run_argv, ["config", "show", "--repo", str(repo)]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and ".autodev" in err.splitlines()[0], err
        assert sorted(path.name for path in elsewhere.iterdir()) == before
        assert not (elsewhere / "bashrc").exists() or (elsewhere / "bashrc").read_text() == "# the user's\n"
    assert git(repo, "branch", "--list", "autodev/*") == ""
    assert git(repo, "status", "--porcelain") == ""
