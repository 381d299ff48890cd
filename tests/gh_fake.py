"""A fake GitHub CLI for the tests: a small Python program written into `tmp_path/bin/gh`.

It records every call (argv, working directory, and the text of any `--body-file`) as one JSON line,
answers `gh issue view N --json ...` from canned issues, `gh pr create` with a pull request URL and
`gh issue comment` with a comment URL. GitHub itself is never reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PR_URL = "https://github.com/octo/calc/pull/12"

PROGRAM = r"""
import json, os, pathlib, re, sys

config = json.loads(pathlib.Path(__file__).with_name("gh-fake.json").read_text(encoding="utf-8"))
argv = sys.argv[1:]
entry = {"argv": argv, "cwd": os.getcwd()}
if "--body-file" in argv:
    source = argv[argv.index("--body-file") + 1]
    entry["body"] = sys.stdin.read() if source == "-" else pathlib.Path(source).read_text(encoding="utf-8")
with open(config["log"], "a", encoding="utf-8") as log:
    log.write(json.dumps(entry) + "\n")
command = " ".join(argv[:2])
if command in config.get("fail", {}):
    sys.stderr.write(config["fail"][command] + "\n")
    sys.exit(1)
if command == "issue view":
    found = re.search(r"(\d+)/?$", argv[2])
    issue = config["issues"].get(found.group(1) if found else "")
    if issue is None:
        sys.stderr.write(f"GraphQL: Could not resolve to an issue with the number of {argv[2]}. (repository.issue)\n")
        sys.exit(1)
    print(json.dumps(issue))
elif command == "pr create":
    print("Creating pull request for " + argv[argv.index("--head") + 1])
    print(config["pr_url"])
elif command == "issue comment":
    print("https://github.com/octo/calc/issues/" + argv[2] + "#issuecomment-1")
"""


@dataclass
class FakeGh:
    bin_dir: Path
    log: Path
    config: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def calls_of(self, *command: str) -> list[dict[str, Any]]:
        return [call for call in self.calls() if call["argv"][: len(command)] == list(command)]

    def fail(self, command: str, message: str) -> None:
        data = json.loads(self.config.read_text(encoding="utf-8"))
        data["fail"][command] = message
        self.config.write_text(json.dumps(data), encoding="utf-8")


def issue_json(number: int, title: str, body: str, **more: Any) -> dict[str, Any]:
    """What `gh issue view N --json title,body,labels,comments,number,url` prints."""
    return {
        "number": number,
        "title": title,
        "body": body,
        "url": f"https://github.com/octo/calc/issues/{number}",
        "labels": [{"id": "L1", "name": name, "description": "", "color": "ededed"} for name in more.get("labels", [])],
        "comments": more.get("comments", []),
    }


def comment(login: str, body: str, association: str = "NONE") -> dict[str, Any]:
    return {
        "author": {"login": login},
        "authorAssociation": association,
        "body": body,
        "createdAt": "2026-12-01T10:00:00Z",
        "isMinimized": False,
        "minimizedReason": "",
        "url": "https://github.com/octo/calc/issues/7#issuecomment-2",
    }


def install_fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, issues: dict[int, dict[str, Any]]) -> FakeGh:
    """Put the fake first on PATH (git, python and bwrap stay reachable)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / "gh"
    program.write_text(f"#!{sys.executable}\n{PROGRAM}", encoding="utf-8")
    program.chmod(0o755)
    log = tmp_path / "gh-calls.jsonl"
    config = bin_dir / "gh-fake.json"
    data = {"log": str(log), "issues": {str(n): issue for n, issue in issues.items()}, "pr_url": PR_URL, "fail": {}}
    config.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{path_without_gh()}")
    return FakeGh(bin_dir, log, config)


def path_without_gh() -> str:
    """PATH without any directory that holds a `gh` (a developer's machine may have the real one)."""
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "gh").exists()]
    assert shutil.which("git", path=os.pathsep.join(kept)) is not None
    return os.pathsep.join(kept)


def add_bare_origin(repo: Path, remote: Path) -> Path:
    """A bare repository at `remote`, added to `repo` as `origin`, with `main` pushed to it."""
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    for args in (["remote", "add", "origin", str(remote)], ["push", "--quiet", "-u", "origin", "main"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return remote


def remote_branch(remote: Path, branch: str) -> str | None:
    """The commit `branch` is at on the bare `remote` (None: not there)."""
    found = subprocess.run(
        ["git", "--git-dir", str(remote), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or None
