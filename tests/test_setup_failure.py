"""A run whose setup fails half way (a full disk) takes back what it made: no branch, no exclude lines.

The full disk is real: a 64 KiB tmpfs mounted on `.autodev/worktrees`, so `git worktree add` creates
the branch and then fails checking out a 256 KiB file. It needs root (mount); elsewhere it is skipped.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts import CALC_FILES, REQUEST, feature_script, git, settle, tree_snapshot

from autodev.apps.cli.main import main

BIG = "x" * 255 + "\n"


@pytest.fixture
def full_worktrees(make_repo: Any) -> Iterator[Path]:
    repo = make_repo({**CALC_FILES, "data/big.txt": BIG * 1024}, name="proj")
    target = repo / ".autodev" / "worktrees"
    target.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(target)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield repo
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_a_full_disk_during_setup_leaves_no_branch_no_exclude_lines_and_no_run(
    full_worktrees: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = full_worktrees
    (tmp_path / "replies.json").write_text(json.dumps(feature_script()), encoding="utf-8")
    settle(repo)
    before = tree_snapshot(repo)
    code = main(
        ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(tmp_path / "replies.json")]
    )
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"error: could not set up the run in {repo}: git worktree add"), lines
    assert lines[1] == (
        "  autodev keeps its runs and worktrees under .autodev: make it writable or free some disk space, then rerun"
    )
    assert git(repo, "branch", "--list", "autodev/*") == ""
    after = tree_snapshot(repo)
    after.pop(".git/autodev.lock", None)  # the repository lock's file: autodev's own, in .git, like every run's
    assert after == before


def test_an_exclude_file_that_is_not_utf8_keeps_its_bytes_and_the_run_goes_on(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES, name="proj")
    user_lines = "# notes de l'équipe\n*.bak\n".encode("latin-1")
    (repo / ".git" / "info" / "exclude").write_bytes(user_lines)
    (tmp_path / "replies.json").write_text(json.dumps(feature_script()), encoding="utf-8")
    code = main(
        ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(tmp_path / "replies.json")]
    )
    captured = capsys.readouterr()
    assert code == 0, captured
    exclude = (repo / ".git" / "info" / "exclude").read_bytes()
    assert exclude.startswith(user_lines)  # appended to, never rewritten: the user's encoding is left alone
    assert b".autodev/runs/" in exclude
