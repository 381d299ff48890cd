"""Git plumbing for isolated runs: find the repo, make the run's worktree and branch, commit the result.

A run never touches the user's checkout, index or uncommitted changes: everything happens in
`<repo>/.autodev/worktrees/<run_id>` on branch `autodev/<run_id>`, created from HEAD.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autodev.core.errors import RunError, UserError

GIT_TIMEOUT_S = 120
EXCLUDES = ("/.autodev/runs/", "/.autodev/cache/", "/.autodev/worktrees/")
FALLBACK_IDENTITY = ("autodev", "autodev@localhost")


class GitError(RunError):
    pass


def git_env() -> dict[str, str]:
    """Never prompt for credentials (a run has no terminal), and messages in one language to parse."""
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def git(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = git_env()
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise UserError("git is not installed or not on PATH", hint="install git and try again") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)} timed out after {GIT_TIMEOUT_S}s") from None
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def find_repo(path: Path) -> Path:
    if not path.exists():
        raise UserError(f"{path} does not exist", hint="pass --repo with the path of a git repository")
    if not path.is_dir():
        raise UserError(f"{path} is not a directory", hint="pass --repo with the path of a git repository")
    result = git(["rev-parse", "--show-toplevel"], path, check=False)
    if result.returncode != 0:
        raise UserError(
            f"{path} is not a git repository",
            hint="run autodev inside a git repository, or pass --repo PATH (git init creates one)",
        )
    return Path(result.stdout.strip()).resolve()


def head_commit(repo: Path) -> str:
    result = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], repo, check=False)
    if result.returncode != 0:
        raise UserError(f"{repo} has no commits yet", hint="commit something first: a run starts from HEAD")
    return result.stdout.strip()


def dirty_paths(repo: Path) -> list[str]:
    out = git(["status", "--porcelain", "--untracked-files=normal"], repo).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def ensure_excludes(repo: Path) -> None:
    """Keep the run's own files out of `git status` without editing any tracked file."""
    exclude = common_dir(repo) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    existing = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
    missing = [line for line in EXCLUDES if line not in existing]
    if missing:
        with exclude.open("a", encoding="utf-8") as handle:
            if existing and existing[-1] != "":
                handle.write("\n")
            handle.write("# autonomous-dev run files\n" + "\n".join(missing) + "\n")


def add_worktree(repo: Path, path: Path, branch: str, base: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    git(["worktree", "add", "--quiet", "-b", branch, str(path), base], repo)


def stage_all(worktree: Path) -> None:
    git(["add", "-A"], worktree)


def diff_against(worktree: Path, base: str, *, stat: bool) -> str:
    stage_all(worktree)
    args = ["diff", "--cached", "--no-color", "--stat=100" if stat else "--unified=3", base]
    return git(args, worktree).stdout


def _identity_flags(worktree: Path) -> list[str]:
    flags = ["-c", "commit.gpgsign=false"]
    if not git(["config", "user.email"], worktree, check=False).stdout.strip():
        flags += ["-c", f"user.name={FALLBACK_IDENTITY[0]}", "-c", f"user.email={FALLBACK_IDENTITY[1]}"]
    return flags


def commit_all(worktree: Path, message: str) -> str | None:
    """Commit every change in the worktree as one commit; None when there is nothing to commit."""
    stage_all(worktree)
    if git(["diff", "--cached", "--quiet"], worktree, check=False).returncode == 0:
        return None
    git([*_identity_flags(worktree), "commit", "--quiet", "--no-verify", "-m", message], worktree)
    return git(["rev-parse", "HEAD"], worktree).stdout.strip()


@dataclass(frozen=True)
class DiffSummary:
    files: int
    insertions: int
    deletions: int
    stat: str


def diff_summary(worktree: Path, base: str, head: str) -> DiffSummary:
    numstat = git(["diff", "--numstat", base, head], worktree).stdout
    files = insertions = deletions = 0
    for line in numstat.splitlines():
        added, deleted, _ = line.split("\t", 2)
        files += 1
        insertions += int(added) if added.isdigit() else 0
        deletions += int(deleted) if deleted.isdigit() else 0
    stat = git(["diff", "--stat=100", base, head], worktree).stdout
    return DiffSummary(files, insertions, deletions, stat)


# ----------------------------------------------------------------- shared state, checkpoints, resume
def common_dir(repo: Path) -> Path:
    """The git dir every worktree of `repo` shares (where branches and the worktree list live)."""
    path = Path(git(["rev-parse", "--git-common-dir"], repo).stdout.strip())
    return path if path.is_absolute() else (repo / path).resolve()


def head_of(worktree: Path) -> str:
    return git(["rev-parse", "HEAD"], worktree).stdout.strip()


def commit_paths(worktree: Path, message: str, paths: list[str] | None = None) -> str | None:
    """Commit `paths` (all changes when None) on the worktree's branch; None when nothing changed.

    Checkpoints use this: when two writing agents run at once, each commits only what it wrote.
    """
    if paths is None:
        return commit_all(worktree, message)
    if not paths:
        return None
    git(["add", "-A", "--", *paths], worktree)
    if git(["diff", "--cached", "--quiet"], worktree, check=False).returncode == 0:
        return None
    git([*_identity_flags(worktree), "commit", "--quiet", "--no-verify", "-m", message], worktree)
    return head_of(worktree)


def squash(worktree: Path, base: str, message: str) -> str | None:
    """Fold every commit since `base` plus uncommitted changes into one commit; None when nothing changed."""
    git(["reset", "--soft", base], worktree)
    return commit_all(worktree, message)


def save_uncommitted(worktree: Path, dest: Path) -> Path | None:
    """Write the worktree's uncommitted changes (untracked files included) as a patch; None when clean."""
    if not worktree.is_dir():
        return None
    stage_all(worktree)
    patch = git(["diff", "--cached", "--binary", "--no-color"], worktree).stdout
    if not patch.strip():
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(patch, encoding="utf-8")
    return dest


def reset_to(worktree: Path, commit: str) -> None:
    """The worktree becomes exactly `commit`: tracked files, untracked and ignored files all."""
    git(["reset", "--quiet", "--hard", commit], worktree)
    git(["clean", "-ffdxq"], worktree)


def remove_stale_index_lock(worktree: Path) -> bool:
    """A process killed inside `git add`/`commit` leaves index.lock behind; only call with the run's lock held."""
    gitdir = Path(git(["rev-parse", "--git-dir"], worktree).stdout.strip())
    lock = (gitdir if gitdir.is_absolute() else worktree / gitdir) / "index.lock"
    if lock.exists():
        lock.unlink()
        return True
    return False


def branch_exists(repo: Path, branch: str) -> bool:
    return git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], repo, check=False).returncode == 0


def restore_worktree(repo: Path, path: Path, branch: str, commit: str) -> None:
    """Bring back a run's worktree (removed by `autodev clean`, or never made) on its branch at `commit`."""
    git(["worktree", "prune"], repo, check=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    if branch_exists(repo, branch):
        git(["worktree", "add", "--quiet", "--force", str(path), branch], repo)
    else:
        git(["worktree", "add", "--quiet", "-b", branch, str(path), commit], repo)
