"""Git plumbing for isolated runs: find the repo, make the run's worktree and branch, commit the result.

A run never touches the user's checkout, index or uncommitted changes: everything happens in
`<repo>/.autodev/worktrees/<run_id>` on branch `autodev/<run_id>`, created from HEAD.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autodev.core.autodev_dir import check_autodev_dir
from autodev.core.errors import RunError, UserError

GIT_TIMEOUT_S = 120
EXCLUDES = ("/.autodev/runs/", "/.autodev/cache/", "/.autodev/worktrees/")
FALLBACK_IDENTITY = ("autodev", "autodev@localhost")
NO_PROGRAMS = ("--no-ext-diff", "--no-textconv")  # for every diff-like command


class GitError(RunError):
    pass


# ----------------------------------------------------------------- autodev's own git, safe from the repository
# A repository's own config (`.git/config`, written by anything that ran in it — test code included)
# can make git run programs: fsmonitor, hooks, external diff, textconv, filters, pager, ssh, credential
# helpers. Command-line `-c` has the highest precedence, so these pins override every config file.
PINNED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),  # no hook runs: git looks for /dev/null/<hook>
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("core.askPass", ""),
    ("core.sshCommand", "ssh"),
    ("credential.helper", ""),  # an empty value clears the list of helpers
    ("diff.external", ""),
    ("protocol.ext.allow", "never"),  # `ext::` URLs run commands
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("core.quotePath", "true"),  # paths in listings stay ASCII (octal escapes) whatever the user set
)
# Filter drivers run by name (`filter.<name>.clean`) for files `.gitattributes` marks; a wildcard can't
# disable them, so each name any config file defines gets empty commands (git then copies the bytes).
# Diff drivers (`diff.<name>.textconv`/`.command`) are off through NO_PROGRAMS on every diff-like command.
FILTER_FIELDS = (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))
# The only variables git gets: what finds programs and the user's own (global) config and identity.
# Never provider keys or tokens; never GIT_DIR, GIT_CONFIG_PARAMETERS or GIT_SSH_COMMAND from outside.
GIT_ENV_ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    "SSH_AUTH_SOCK",  # a remote reached over ssh (the temporal engine's transport) needs the user's agent
)


def git_env() -> dict[str, str]:
    """An allow-listed environment: no system config, no prompt or pager, messages in one language to parse."""
    env = {name: os.environ[name] for name in GIT_ENV_ALLOWED if name in os.environ}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_PAGER="cat",
        GIT_ASKPASS="",
        GIT_ATTR_NOSYSTEM="1",
        GIT_EDITOR="true",
        LC_ALL="C",
    )
    return env


def filter_pins(cwd: Path) -> list[tuple[str, str]]:
    """Empty commands for every filter driver some config file defines.

    `git config` only reads config files (no fsmonitor, hook or driver runs), so asking it is safe."""
    try:
        listed = subprocess.run(
            ["git", "config", "--name-only", "-z", "--get-regexp", r"^filter\..+\."],
            cwd=cwd if cwd.is_dir() else None,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=git_env(),
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    pins: list[tuple[str, str]] = []
    for key in sorted({key.rsplit(".", 1)[0] for key in listed.split("\0") if key.count(".") >= 2}):
        pins += [(f"{key}.{field}", value) for field, value in FILTER_FIELDS]
    return pins


def git_argv(args: list[str], cwd: Path) -> list[str]:
    """`git args` with every setting that could run a program pinned off; the one way autodev calls git."""
    flags = ["--no-pager"]
    for key, value in (*PINNED_CONFIG, *filter_pins(cwd)):
        flags += ["-c", f"{key}={value}"]
    return ["git", *flags, *args]


def git(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = git_env()
    try:
        result = subprocess.run(
            git_argv(args, cwd),
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
    repo = Path(result.stdout.strip()).resolve()
    check_autodev_dir(repo)
    return repo


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
    # bytes, not text: the user's file may be in any encoding, and is appended to, never rewritten
    existing = exclude.read_bytes().splitlines() if exclude.exists() else []
    missing = [line for line in EXCLUDES if line.encode("utf-8") not in existing]
    if missing:
        with exclude.open("ab") as handle:
            if existing and existing[-1] != b"":
                handle.write(b"\n")
            handle.write(("# autonomous-dev run files\n" + "\n".join(missing) + "\n").encode("utf-8"))


def add_worktree(repo: Path, path: Path, branch: str, base: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    git(["worktree", "add", "--quiet", "-b", branch, str(path), base], repo)


def stage_all(worktree: Path) -> None:
    git(["add", "-A"], worktree)


def diff_against(worktree: Path, base: str, *, stat: bool) -> str:
    stage_all(worktree)
    args = ["diff", *NO_PROGRAMS, "--cached", "--no-color", "--stat=100" if stat else "--unified=3", base]
    return git(args, worktree).stdout


def _identity_flags(worktree: Path) -> list[str]:
    flags = ["-c", "commit.gpgsign=false"]
    if not git(["config", "user.email"], worktree, check=False).stdout.strip():
        flags += ["-c", f"user.name={FALLBACK_IDENTITY[0]}", "-c", f"user.email={FALLBACK_IDENTITY[1]}"]
    return flags


def commit_all(worktree: Path, message: str) -> str | None:
    """Commit every change in the worktree as one commit; None when there is nothing to commit."""
    stage_all(worktree)
    if git(["diff", *NO_PROGRAMS, "--cached", "--quiet"], worktree, check=False).returncode == 0:
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
    numstat = git(["diff", *NO_PROGRAMS, "--numstat", base, head], worktree).stdout
    files = insertions = deletions = 0
    for line in numstat.splitlines():
        added, deleted, _ = line.split("\t", 2)
        files += 1
        insertions += int(added) if added.isdigit() else 0
        deletions += int(deleted) if deleted.isdigit() else 0
    stat = git(["diff", *NO_PROGRAMS, "--stat=100", base, head], worktree).stdout
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
    if git(["diff", *NO_PROGRAMS, "--cached", "--quiet"], worktree, check=False).returncode == 0:
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
    patch = git(["diff", *NO_PROGRAMS, "--cached", "--binary", "--no-color"], worktree).stdout
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


# ----------------------------------------------------------------- the user's git config, watched during a run
@dataclass(frozen=True)
class GitFingerprint:
    """What of the user's `.git` can make git run programs: config files and hooks (name, mode, content hash).

    Taken at a run's start from the files themselves, compared at its end: anything that ran during
    the run (test code above all) and changed them is reported, never silently obeyed later."""

    common: Path
    gitdir: Path
    entries: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, repo: Path) -> GitFingerprint:
        common = common_dir(repo)
        gitdir = Path(git(["rev-parse", "--absolute-git-dir"], repo).stdout.strip())
        return cls.at(common, gitdir)

    @classmethod
    def at(cls, common: Path, gitdir: Path) -> GitFingerprint:
        watched = [common / "config", common / "config.worktree", gitdir / "config.worktree"]
        hooks = common / "hooks"
        if hooks.is_dir():
            watched += sorted(path for path in hooks.rglob("*") if not path.is_dir())
        entries = {_label(common, path): _file_print(path) for path in watched}
        if not hooks.is_dir():
            entries["hooks/"] = "absent" if not hooks.exists() else "not a directory"
        return cls(common, gitdir, tuple(sorted(entries.items())))

    def changes(self) -> list[str]:
        """What differs now (e.g. `config (changed)`, `hooks/post-commit (added)`); empty when nothing did."""
        now = dict(GitFingerprint.at(self.common, self.gitdir).entries)
        before = dict(self.entries)
        changed = []
        for name in sorted(before.keys() | now.keys()):
            old, new = before.get(name, "absent"), now.get(name, "absent")
            if old != new:
                what = "added" if old == "absent" else "removed" if new == "absent" else "changed"
                changed.append(f"{self.common / name} ({what})")
        return changed


def _label(common: Path, path: Path) -> str:
    """The path relative to the common dir (an absolute path, outside it, stays absolute when joined back)."""
    try:
        return path.relative_to(common).as_posix()
    except ValueError:
        return str(path)


def _file_print(path: Path) -> str:
    try:
        if path.is_symlink():
            return f"symlink {os.readlink(path)}"
        if not path.exists():
            return "absent"
        mode = path.stat().st_mode
        return f"{mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError as exc:
        return f"unreadable {exc.strerror}"


def config_change_error(changes: list[str]) -> str:
    listed = ", ".join(changes)
    return (
        f"the repository's git config or hooks changed during the run: {listed}. Something the run executed "
        "(test code?) may have planted a program for git to run; inspect these files before running git or "
        "autodev again in this repository. autodev ran no git command after noticing and did not commit the result"
    )
