"""The Bash tool, adversarially: no shell, an allow-list, read-only rules, timeouts that kill, capped output."""

from __future__ import annotations

import os
import shutil
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import MakeRepo
from process_support import processes_mentioning

from autodev.sandbox.workspace import ToolError, Workspace
from autodev.tools.base import ToolContext, ToolResult, invoke
from autodev.tools.bash import BASH_OUTPUT_CAP, Bash, CappedOutput, split_command, tool_environment

needs_rg = pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    (root / "victim.txt").write_text("still here\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[remote]\ntoken = hunter2\n", encoding="utf-8")
    return root


def run(args: Mapping[str, Any], workspace: Workspace, bash: Bash | None = None) -> ToolResult:
    async def main() -> ToolResult:
        return await invoke(bash or Bash(), args, ToolContext(workspace, "tester"))

    return anyio.run(main)


def ok(command: str | list[str], root: Path, bash: Bash | None = None) -> str:
    result = run({"command": command}, Workspace(root), bash)
    assert not result.is_error, result.content
    return result.content


def refused(command: str | list[str], root: Path, needle: str, bash: Bash | None = None) -> Workspace:
    ws = Workspace(root)
    result = run({"command": command}, ws, bash)
    assert result.is_error, result.content
    assert needle in result.content, result.content
    assert ws.refusals, "every refusal is recorded"
    return ws


# --- no shell ----------------------------------------------------------------------------------------


def test_shell_metacharacters_stay_plain_arguments(root: Path) -> None:
    (root / "a.txt; rm -rf victim.txt").write_text("literal file\n", encoding="utf-8")
    assert ok('cat "a.txt; rm -rf victim.txt"', root) == "exit 0\nliteral file\n"
    assert ok(["cat", "a.txt; rm -rf victim.txt"], root) == "exit 0\nliteral file\n"
    whoami = ok("ls $(whoami)", root)
    assert whoami.startswith("exit 2\n") and "$(whoami)" in whoami
    for command, literal in [
        ("cat a.txt | rm victim.txt", "'|'"),
        ("cat a.txt && rm victim.txt", "'&&'"),
        ("cat a.txt ; rm victim.txt", "';'"),
        ("cat a.txt > victim.txt", "'>'"),
        ("cat `id`", "'`id`'"),
        ("cat $HOME", "'$HOME'"),
        ("cat *.txt", "'*.txt'"),
    ]:
        out = ok(command, root)
        assert out.startswith("exit 1\n") and literal in out, (command, out)
    assert (root / "victim.txt").read_text(encoding="utf-8") == "still here\n"
    assert sorted(p.name for p in root.iterdir()) == [".git", "a.txt", "a.txt; rm -rf victim.txt", "victim.txt"]


def test_split_command() -> None:
    assert split_command("grep -n 'a b' \"c d\" e\\ f") == ["grep", "-n", "a b", "c d", "e f"]
    assert split_command(["ls", "-la"]) == ["ls", "-la"]
    for bad, needle in [('cat "unclosed', "could not split"), ("", "empty"), ([], "empty"), (["ls", 1], "string")]:
        with pytest.raises(ToolError, match=needle):
            split_command(bad)


@pytest.mark.parametrize(
    "command",
    ["python -c 'print(1)'", "python3 -V", "sh -c ls", "bash -c ls", "env", "xargs rm", "rm -rf .", "curl x", "make"],
)
def test_programs_off_the_allow_list_are_refused(root: Path, command: str) -> None:
    refused(command, root, "is not on the allow-list")


def test_a_program_given_as_a_path_is_refused(root: Path) -> None:
    refused("/bin/cat a.txt", root, "not a path")
    refused("./cat a.txt", root, "not a path")


def test_a_program_named_like_an_allowed_one_inside_the_repo_is_never_run(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "bin").mkdir()
    fake = root / "bin" / "wc"
    fake.write_text("#!/bin/sh\necho pwned > pwned.txt\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"bin{os.pathsep}{root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert ok("wc -l a.txt", root) == "exit 0\n2 a.txt\n"
    assert not (root / "pwned.txt").exists()


def test_allowed_but_missing_program(root: Path) -> None:
    result = run({"command": "no-such-program-xyz"}, Workspace(root), Bash(["no-such-program-xyz"]))
    assert result.is_error and "allowed but not installed" in result.content


# --- read-only rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ("git commit -am x", "git commit is not allowed"),
        ("git push", "git push is not allowed"),
        ("git checkout -- a.txt", "git checkout is not allowed"),
        ("git reset --hard", "git reset is not allowed"),
        ("git config core.hooksPath x", "git config is not allowed"),
        ("git -c core.pager=sh log", "before the subcommand"),
        ("git -C .. status", "before the subcommand"),
        ("git --git-dir=.git log", "before the subcommand"),
        ("git --work-tree=/ status", "before the subcommand"),
        ("git --exec-path=. status", "before the subcommand"),
        ("git", "needs a subcommand"),
        ("git diff --output=patch.txt", "git --output=patch.txt is not allowed"),
        ("git log --outp=x", "is not allowed"),  # an abbreviation of --output
        ("git grep -O hi", "git -O is not allowed"),
        ("git grep --open-files-in-pager=vi hi", "is not allowed"),
        ("find . -exec rm {} ;", "find -exec is not allowed"),
        ("find . -execdir rm {} +", "find -execdir"),
        ("find . -ok rm {} ;", "find -ok"),
        ("find . -okdir rm {} ;", "find -okdir"),
        ("find . -delete", "find -delete"),
        ("find . -fprint out.txt", "find -fprint"),
        ("find . -fprintf out.txt %p", "find -fprintf"),
        ("find . -fls out.txt", "find -fls"),
        ("find -L .", "find -L"),
        ("find . -follow", "find -follow"),
        ("sort -o out.txt a.txt", "sort -o"),
        ("sort -ro out.txt a.txt", "sort -o (in -ro)"),
        ("sort --output=out.txt a.txt", "not allowed"),
        ("sort --compress-program=sh a.txt", "not allowed"),
        ("sort -T . a.txt", "sort -T"),
        ("uniq a.txt out.txt", "writes its output there"),
        ("grep -R alpha .", "grep -R"),
        ("grep -iR alpha .", "grep -R (in -iR)"),
        ("grep --dereference-recursive alpha .", "not allowed"),
        ("rg --pre=sh alpha", "rg --pre=sh is not allowed"),
        ("rg --follow alpha", "not allowed"),
        ("rg -L alpha", "rg -L"),
        ("ls -L", "ls -L"),
        ("diff -r a b", "diff -r"),
        ("ruff format .", "add --check or --diff"),
        ("ruff check --fix .", "ruff --fix is not allowed"),
        ("ruff check --add-noqa .", "not allowed"),
        ("ruff server", "ruff server is not allowed"),
    ],
)
def test_dangerous_options_are_refused(root: Path, command: str, needle: str) -> None:
    refused(command, root, needle)
    assert sorted(p.name for p in root.iterdir()) == [".git", "a.txt", "victim.txt"]


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ("cat /etc/passwd", "absolute paths are not allowed"),
        ("cat //etc/passwd", "absolute paths"),
        (["cat", "C:\\Windows\\win.ini"], "absolute paths"),
        (["cat", "\\\\server\\share\\x"], "absolute paths"),
        ("grep -f/etc/passwd x", "absolute paths"),
        ("wc --files0-from=/etc/passwd", "absolute paths"),
        ("find / -name passwd", "absolute paths"),
        ("cat ../outside.txt", "'..' is not allowed"),
        ("cat a/../../x", "'..' is not allowed"),
        ("ls ..", "'..' is not allowed"),
        ("git log -- ../x", "'..' is not allowed"),
        ("cat .git/config", ".git/ is off limits"),
        ("ls .git", ".git/ is off limits"),
        ("grep -r token .git", ".git/ is off limits"),
        ("cat leak.txt", "outside the repository"),
        ("ls vendor/", "outside the repository"),
        ("cat a.txt\x00", "NUL"),
    ],
)
def test_paths_out_of_the_worktree_are_refused(
    root: Path, tmp_path: Path, command: str | list[str], needle: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n", encoding="utf-8")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    refused(command, root, needle)


def test_recursive_searches_skip_protected_dirs_and_symlinks_out(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("hunter2\n", encoding="utf-8")
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    (root / ".autodev").mkdir()
    (root / ".autodev" / "session.md").write_text("hunter2\n", encoding="utf-8")
    assert ok("grep -r hunter2 .", root) == "exit 1\n(no output)"
    assert "hunter2" not in ok("find . -name secret.txt", root)
    if shutil.which("rg"):
        assert ok("rg --hidden --no-ignore -uu hunter2", root) == "exit 1\n(no output)"
        assert ok(["rg", "--hidden", "--no-ignore", "-g", "*", "hunter2"], root) == "exit 1\n(no output)"
    refused(["rg", "-g", ".git/**", "hunter2"], root, ".git/ is off limits")


def test_read_only_git_works(make_repo: MakeRepo) -> None:
    repo = make_repo({"README.md": "# project\n", "src/app.py": "print('hi')\n"})
    (repo / "src" / "app.py").write_text("print('hello')\n", encoding="utf-8")
    assert "modified:   src/app.py" in ok("git status", repo)
    assert "+print('hello')" in ok("git diff", repo)
    assert ok("git log --format=%s", repo) == "exit 0\ninitial\n"
    assert ok("git show HEAD:src/app.py", repo) == "exit 0\nprint('hi')\n"
    assert ok("git ls-files", repo) == "exit 0\nREADME.md\nsrc/app.py\n"
    assert "print" in ok("git grep -n print", repo)


def test_ruff_check_never_fixes(root: Path) -> None:
    bash = Bash()
    ws = Workspace(root)
    assert bash.check(["ruff", "check", "src"], ws) == ["ruff", "check", "--no-fix", "src"]
    assert bash.check(["ruff", "format", "--check", "."], ws) == ["ruff", "format", "--check", "."]
    assert bash.check(["grep", "-rn", "x", "."], ws)[1:3] == ["--exclude-dir=.git", "--exclude-dir=.autodev"]
    assert bash.check(["rg", "x", "--", "a.txt"], ws) == [
        "rg", "x", "--no-config", "--glob=!.git", "--glob=!.autodev", "--", "a.txt",
    ]  # fmt: skip


def test_environment_has_no_secrets_no_git_redirection_and_no_relative_path(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("GIT_DIR", "/elsewhere/.git")
    monkeypatch.setenv("RIPGREP_CONFIG_PATH", "/elsewhere/rgrc")
    monkeypatch.setenv("PATH", f".{os.pathsep}{root}{os.pathsep}{os.environ['PATH']}{os.pathsep}")
    env = tool_environment(root.resolve())
    for gone in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "GIT_DIR", "RIPGREP_CONFIG_PATH"):
        assert gone not in env
    entries = env["PATH"].split(os.pathsep)
    assert all(os.path.isabs(e) for e in entries) and str(root) not in entries
    assert env["GIT_PAGER"] == "cat" and env["GIT_OPTIONAL_LOCKS"] == "0"


# --- timeouts ----------------------------------------------------------------------------------------


def test_a_hanging_command_is_killed_and_reported(root: Path) -> None:
    marker = "hang-marker-5b1e.txt"
    (root / marker).write_text("waiting\n", encoding="utf-8")
    started = time.perf_counter()
    result = run({"command": f"tail -f {marker}", "timeout_s": 1}, Workspace(root))
    assert time.perf_counter() - started < 50  # not the 60 s default: the 1 s asked for (tail -f never ends)
    assert result.is_error
    assert "timed out after 1s" in result.content and "killed" in result.content
    assert "waiting" in result.content  # what it printed before the timeout
    assert processes_mentioning(marker, settle_s=3.0) == []


def test_the_whole_process_group_is_killed(root: Path) -> None:
    """A child the program started dies with it (only testable with a shell the user allowed knowingly)."""
    if shutil.which("sh") is None or not Path("/proc").is_dir():
        pytest.skip("needs sh and /proc")
    marker = "31.4159"
    bash = Bash(["sh"], timeout_s=1)
    result = run({"command": ["sh", "-c", f"sleep {marker} & sleep {marker}; wait"]}, Workspace(root), bash)
    assert result.is_error and "timed out" in result.content
    assert processes_mentioning(f"sleep\x00{marker}", settle_s=3.0) == []


def test_timeout_is_clamped_and_validated(root: Path) -> None:
    (root / "f.txt").write_text("x\n", encoding="utf-8")
    started = time.perf_counter()
    result = run({"command": "tail -f f.txt", "timeout_s": 600}, Workspace(root), Bash(timeout_s=0.5))
    assert result.is_error and "timed out after 0.5s" in result.content
    assert time.perf_counter() - started < 300  # not the 600 s asked for
    for bad in (0, -1, "10", True):
        bad_result = run({"command": "ls", "timeout_s": bad}, Workspace(root))
        assert bad_result.is_error and "timeout_s" in bad_result.content


# --- output --------------------------------------------------------------------------------------------


def test_many_megabytes_of_output_are_capped_in_bounded_memory(root: Path) -> None:
    line = b"0123456789abcdef\n"
    with (root / "big.txt").open("wb") as handle:
        handle.write(line * (20 * 1024 * 1024 // len(line)))
    tracemalloc.start()
    try:
        result = run({"command": "cat big.txt"}, Workspace(root))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.is_error
    assert peak < 5_000_000, peak  # a 20 MB stream never sits in memory
    assert len(result.content) < BASH_OUTPUT_CAP + 500
    assert result.content.startswith("exit 0\n0123456789abcdef\n")
    assert result.content.endswith("0123456789abcdef\n")
    assert "bytes of output omitted (of 20971" in result.content
    assert "Read the file with offset/limit" in result.content


def test_stderr_is_captured_with_the_exit_code(root: Path) -> None:
    out = ok("ls no-such-file", root)
    assert out.startswith("exit 2\n") and "no-such-file" in out


def test_capped_output_keeps_head_and_tail() -> None:
    capped = CappedOutput(30)
    for chunk in (b"H" * 15, b"H" * 5 + b"M" * 50, b"T" * 10):
        capped.feed(chunk)
    text = capped.text("narrow it")
    assert text == "H" * 20 + "\n[... 50 bytes of output omitted (of 80); narrow it ...]\n" + "T" * 10
    small = CappedOutput(30)
    small.feed(b"short")
    assert small.text() == "short"


def test_description_names_the_allow_list(root: Path) -> None:
    bash = Bash(["git", "ls"], timeout_s=5)
    assert "Allowed programs: git, ls." in bash.definition.description
    assert "5s" in bash.definition.description
    assert bash.definition.input_schema["required"] == ["command"]
    assert not bash.can_write and Bash(["ls", "python"]).can_write
    with pytest.raises(ToolError, match="not on the allow-list"):
        bash.check(["cat", "a.txt"], Workspace(root))


@needs_rg
def test_rg_runs_with_no_user_config(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "rgrc"
    config.write_text("--pre=/bin/false\n", encoding="utf-8")
    monkeypatch.setenv("RIPGREP_CONFIG_PATH", str(config))
    assert ok("rg -n alpha a.txt", root) == "exit 0\n1:alpha\n"
