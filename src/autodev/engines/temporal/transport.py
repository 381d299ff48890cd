"""Git as the transport: workers share no disk, only a remote every one of them can reach.

A run's branch `autodev/<run_id>` lives on the remote (a bare repository path or any git URL; by
default the user's repository itself, which serves workers on the same machine). Each worker keeps
one bare mirror clone per remote and makes a worktree per task at the commit the workflow names, so
a step always starts from exactly the checkpoint the workflow recorded — whichever worker ran the
step before, and even if that worker died.

Texts travel the same way. An artifact is a commit of a few flat files (a handoff, a session log,
metrics lines, test output) pushed to its own ref under `refs/autodev/<run_id>/...`; a `TextRef`
(ref, commit, path) is all a payload carries. Refs name the attempt that wrote them, so a retried
step never overwrites what an earlier attempt published, and a reference the workflow holds always
stays reachable. The client reads the artifacts back into the run directory when the run ends, and
deletes the refs.

Everything here is blocking git: activities call it in a thread. One lock per mirror serialises the
operations that touch its refs and worktree list (fetch, worktree add and remove), across threads
and processes sharing a working directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from autodev.core import gitops
from autodev.core.gitops import GitError
from autodev.core.locks import FileLock
from autodev.engines.temporal.messages import TextRef

IDENTITY = ["-c", f"user.name={gitops.FALLBACK_IDENTITY[0]}", "-c", f"user.email={gitops.FALLBACK_IDENTITY[1]}"]


def branch_ref(run_id: str) -> str:
    return f"refs/heads/autodev/{run_id}"


def run_refs(run_id: str) -> str:
    return f"refs/autodev/{run_id}/"


def git_bytes(args: list[str], cwd: Path, data: bytes | None = None) -> bytes:
    """`git args` with optional stdin, returning stdout as bytes (artifact contents may be anything)."""
    try:
        result = subprocess.run(
            gitops.git_argv(args, cwd),
            cwd=cwd,
            input=data,
            capture_output=True,
            timeout=gitops.GIT_TIMEOUT_S,
            env=gitops.git_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args[:3])} timed out after {gitops.GIT_TIMEOUT_S}s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:4])} failed: {message}")
    return result.stdout


def make_artifact(repo: Path, files: Mapping[str, str | bytes], message: str) -> str:
    """A commit (no parent) holding `files` (flat names) in `repo`'s object store; returns its SHA."""
    lines = []
    for name in sorted(files):
        if "/" in name or not name:
            raise ValueError(f"artifact file names are flat: {name!r}")
        content = files[name]
        data = content.encode("utf-8") if isinstance(content, str) else content
        blob = git_bytes(["hash-object", "-w", "--stdin"], repo, data).decode().strip()
        lines.append(f"100644 blob {blob}\t{name}\n")
    tree = git_bytes(["mktree"], repo, "".join(lines).encode("utf-8")).decode().strip()
    return git_bytes([*IDENTITY, "commit-tree", tree, "-m", message], repo).decode().strip()


def read_text(repo: Path, ref: TextRef) -> str:
    return git_bytes(["cat-file", "blob", f"{ref.commit}:{ref.path}"], repo).decode("utf-8", "replace")


def artifact_files(repo: Path, commit: str) -> dict[str, bytes]:
    names = git_bytes(["ls-tree", "--name-only", "-z", commit], repo).decode().split("\0")
    return {name: git_bytes(["cat-file", "blob", f"{commit}:{name}"], repo) for name in names if name}


def push(repo: Path, remote: str, refspecs: list[str], *, lease: str | None = None) -> None:
    args = ["push", "--quiet", "--no-verify"]
    if lease is not None:
        args.append(f"--force-with-lease={lease}")
    gitops.git([*args, remote, *refspecs], repo)


def remote_refs(repo: Path, remote: str, pattern: str) -> dict[str, str]:
    """ref -> SHA on the remote, for refs matching `pattern`."""
    out = gitops.git(["ls-remote", remote, pattern], repo).stdout
    refs = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name:
            refs[name] = sha
    return refs


class Mirror:
    """A worker's bare clone of one remote, with a worktree per task."""

    def __init__(self, workdir: Path, remote: str) -> None:
        self.remote = remote
        digest = hashlib.sha1(remote.encode()).hexdigest()[:12]
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", remote.rstrip("/").rsplit("/", 1)[-1])[:40] or "remote"
        self.path = workdir / "mirrors" / f"{stem}-{digest}.git"
        self.tasks = workdir / "tasks" / str(os.getpid())  # `clean_stale` removes those of dead workers
        self._lock_path = workdir / "mirrors" / f"{stem}-{digest}.lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with FileLock(self._lock_path):  # one lock object per holder: a flock is per open file
            yield

    def fetch_run(self, run_id: str) -> None:
        """Bring the run's branch, checkpoints and artifacts from the remote (cloning on first use)."""
        with self.locked():
            if not (self.path / "HEAD").exists():
                if self.path.exists():
                    shutil.rmtree(self.path)  # a clone cut short
                self.path.parent.mkdir(parents=True, exist_ok=True)
                gitops.git(["init", "--quiet", "--bare", str(self.path)], self.path.parent)
                gitops.git(["config", "gc.auto", "0"], self.path)  # worktrees' detached HEADs keep their commits
            gitops.git(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--force",
                    self.remote,
                    f"+{branch_ref(run_id)}:{branch_ref(run_id)}",
                    f"+{run_refs(run_id)}*:{run_refs(run_id)}*",
                ],
                self.path,
            )

    def add_worktree(self, commit: str, label: str) -> Path:
        path = self.tasks / label
        with self.locked():
            if path.exists():  # left by a process killed in the middle of a task
                gitops.git(["worktree", "remove", "--force", str(path)], self.path, check=False)
                shutil.rmtree(path, ignore_errors=True)
            gitops.git(["worktree", "prune"], self.path, check=False)
            path.parent.mkdir(parents=True, exist_ok=True)
            gitops.git(["worktree", "add", "--quiet", "--detach", str(path), commit], self.path)
        return path

    def remove_worktree(self, path: Path) -> None:
        with self.locked():
            gitops.git(["worktree", "remove", "--force", str(path)], self.path, check=False)
            shutil.rmtree(path, ignore_errors=True)
            gitops.git(["worktree", "prune"], self.path, check=False)

    def read(self, ref: TextRef) -> str:
        return read_text(self.path, ref)

    def publish_artifact(self, ref: str, files: Mapping[str, str | bytes], message: str) -> str:
        """Commit `files` as an artifact and push it to `ref` on the remote; returns the commit."""
        commit = make_artifact(self.path, files, message)
        push(self.path, self.remote, [f"{commit}:{ref}"])
        return commit

    def push_commit(self, commit: str, ref: str) -> None:
        push(self.path, self.remote, [f"{commit}:{ref}"])

    def advance_branch(self, run_id: str, new: str, expected: str, superseded: set[str]) -> bool:
        """Move the run's branch on the remote from `expected` to `new`; True when it moved.

        Only the workflow's view counts (it passes each step the commit to start from), so the branch
        is a mirror of it for people and tools. A compare-and-swap keeps it from going backwards: it
        moves only from `expected`, or from a commit an earlier attempt of this same step published
        (`superseded`) — a worker that died after pushing, or one that was given up on and finished
        late, never overwrites the step's accepted result.
        """
        ref = branch_ref(run_id)
        for current in (expected, *sorted(superseded)):
            try:
                push(self.path, self.remote, [f"{new}:{ref}"], lease=f"{ref}:{current}")
                return True
            except GitError:
                continue
        return False


def clean_stale(workdir: Path) -> list[Path]:
    """Remove the task worktrees of worker processes that no longer exist (killed mid-task)."""
    removed = []
    tasks = workdir / "tasks"
    for entry in sorted(tasks.iterdir()) if tasks.is_dir() else ():
        if not entry.name.isdigit() or _alive(int(entry.name)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    for mirror in (workdir / "mirrors").glob("*.git"):
        gitops.git(["worktree", "prune"], mirror, check=False)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------- the client's side
def is_same_repo(repo: Path, remote: str) -> bool:
    candidate = Path(remote.removeprefix("file://")).expanduser()
    return candidate.is_absolute() and candidate.exists() and candidate.resolve() == repo.resolve()


def start_run(repo: Path, remote: str, run_id: str, base: str, request: str) -> TextRef:
    """Put the run's branch (at `base`) and its request on the remote; returns the request's reference."""
    commit = make_artifact(repo, {"request.md": request}, f"autodev request\n\nautodev run {run_id}")
    ref = run_refs(run_id) + "request"
    try:
        push(repo, remote, [f"{base}:{branch_ref(run_id)}", f"{commit}:{ref}"])
    except GitError as exc:
        raise GitError(f"cannot put run {run_id} on the remote {remote}: {exc}") from exc
    return TextRef(ref=ref, commit=commit, path="request.md", size=len(request.encode("utf-8")))


def collect_run(repo: Path, remote: str, run_id: str) -> dict[str, dict[str, bytes]]:
    """Bring a finished run home: its branch into `repo`, and its artifacts (ref suffix -> files).

    The artifact refs are deleted afterwards, here and on the remote: what they held now lives in
    the run directory, and the run's branch is its result.
    """
    prefix = run_refs(run_id)
    same = is_same_repo(repo, remote)
    if not same:
        gitops.git(
            ["fetch", "--quiet", "--no-tags", "--force", remote, f"+{branch_ref(run_id)}:{branch_ref(run_id)}",
             f"+{prefix}*:{prefix}*"],
            repo,
        )  # fmt: skip
    listed = gitops.git(["for-each-ref", "--format=%(refname) %(objectname)", prefix], repo).stdout
    artifacts: dict[str, dict[str, bytes]] = {}
    refs = []
    for line in listed.splitlines():
        name, _, commit = line.partition(" ")
        refs.append(name)
        key = name.removeprefix(prefix)
        if not key.startswith("checkpoints/"):  # checkpoints are commits of the project, already on the branch
            artifacts[key] = artifact_files(repo, commit)
    if refs:
        if not same:
            with contextlib.suppress(GitError):  # a remote that refuses deletes keeps them; nothing is lost
                push(repo, remote, [f":{name}" for name in refs])
        for name in refs:
            gitops.git(["update-ref", "-d", name], repo, check=False)
    return artifacts
