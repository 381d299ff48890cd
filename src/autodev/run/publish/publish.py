"""`--push` and `--pr`: the run's branch to a remote, and a pull request for it, after the run is done.

All or nothing where it can be: every check (the remote, `gh` for `--pr`) comes before the push, so
a missing piece publishes nothing and the error says the exact command line that does it by hand
(the pull request's body is written to the run directory first, so that command line works as is).
The push is autodev's pinned git: no hook, no program from the repository's config runs. Only the
credential helpers of the user's own global git config are let back in, as the user's git would use them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from autodev.agent.context.ranking import is_test_path
from autodev.core import gitops
from autodev.core.clock import iso, utc_now
from autodev.core.errors import UserError
from autodev.core.records import read_metrics
from autodev.core.redact import redact
from autodev.run.layout import RunPaths
from autodev.run.publish.body import ChangedTests, pr_body, pr_title
from autodev.run.publish.gh import INSTALL_HINT, GhMissing, gh_available, run_gh
from autodev.run.publish.request import PublishRequest
from autodev.run.report import run_report
from autodev.run.state import Published, RunState, StateStore

BODY_FILE = "pull-request.md"


def resolve_base(repo: Path, remote: str, explicit: str | None) -> str:
    """The pull request's base: `--base`, else the branch the run starts from when the remote has it,
    else the remote's default branch as git last saw it, else that branch anyway (or `main`)."""
    if explicit:
        return explicit
    current = gitops.git(["symbolic-ref", "--quiet", "--short", "HEAD"], repo, check=False).stdout.strip()
    tracking = ["rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{current}"]
    if current and gitops.git(tracking, repo, check=False).returncode == 0:
        return current
    default = gitops.git(["symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"], repo, check=False)
    if default.returncode == 0 and default.stdout.strip().startswith(f"{remote}/"):
        return default.stdout.strip()[len(remote) + 1 :]
    return current or "main"


def remote_url(repo: Path, remote: str) -> str | None:
    result = gitops.git(["remote", "get-url", "--push", remote], repo, check=False)
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def readiness_notes(request: PublishRequest, repo: Path) -> list[str]:
    """Before the run: what will stop the publishing at its end (the run goes on; its branch is kept)."""
    notes = []
    if remote_url(repo, request.remote) is None:
        notes.append(f"there is no git remote named {request.remote!r}: the branch will not be pushed")
    if request.pr and not gh_available():
        notes.append("the GitHub CLI (gh) is not installed: no pull request will be opened")
    if notes:
        notes.append("the run goes ahead; at its end you get the commands that publish its branch")
    return notes


def test_files(repo: Path, base: str, commit: str) -> ChangedTests:
    listed = gitops.git(["diff", *gitops.NO_PROGRAMS, "--name-status", "--no-renames", "-z", base, commit], repo).stdout
    fields = listed.split("\0")
    added: list[str] = []
    changed: list[str] = []
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if is_test_path(path) and status in ("A", "M"):
            (added if status == "A" else changed).append(path)
    return ChangedTests(added, changed)


def _credential_flags(repo: Path) -> list[str]:
    """The credential helpers of the user's own global git config, after the pin that cleared them all.

    The repository's config (which code the run executed could have written) stays cleared: only what
    the user configured for every repository comes back, in its order, as their own `git push` uses it."""
    listed = gitops.git(
        ["config", "--global", "--includes", "-z", "--get-regexp", r"^credential\..*helper$"], repo, check=False
    ).stdout
    flags: list[str] = []
    for entry in listed.split("\0"):
        key, _, value = entry.partition("\n")
        if key and value:
            flags += ["-c", f"{key}={value}"]
    return flags


@dataclass(frozen=True)
class _Commands:
    """The command lines that publish by hand what autodev could not."""

    repo: Path
    push: str
    pr: str | None

    def rest(self, *, pushed: bool) -> str:
        steps = ([] if pushed else [self.push]) + ([self.pr] if self.pr else [])
        return f"cd {shlex.quote(str(self.repo))} && " + " && ".join(steps)


def _commands(state: RunState, request: PublishRequest, body: Path) -> _Commands:
    push = shlex.join(["git", "push", request.remote, state.branch])
    pr = None
    if request.pr:
        argv = ["gh", "pr", "create", "--head", state.branch, "--base", request.base or "main"]
        argv += ["--title", pr_title(state), "--body-file", str(body)] + (["--draft"] if request.draft else [])
        pr = shlex.join(argv)
    return _Commands(Path(state.repo), push, pr)


def publish(state: RunState, paths: RunPaths, request: PublishRequest) -> Published | None:
    """Push the done run's branch (and open the pull request); None when the run changed nothing.

    The outcome is saved in state.json (`published`) as soon as the branch is pushed. A `UserError`
    (exit 2) for anything missing or refused: the run's branch stays exactly as the run left it.
    """
    if state.status != "done" or not state.branch:
        raise UserError(f"run {state.run_id} is {state.status}: only a done run is published")
    if not state.commit:
        return None
    repo = Path(state.repo)
    report = run_report(state, read_metrics(paths.metrics_file), state.pipeline)
    body_path = paths.run_dir / BODY_FILE
    body_path.write_text(pr_body(state, report, test_files(repo, state.base_commit, state.commit)), encoding="utf-8")
    commands = _commands(state, request, body_path)
    kept = f"the run's work is on branch {state.branch}"
    if remote_url(repo, request.remote) is None:
        raise UserError(
            f"not published: there is no git remote named {request.remote!r}; {kept}",
            hint=f"add it (git remote add {request.remote} URL), then run: {commands.rest(pushed=False)}",
        )
    if request.pr and not gh_available():
        raise UserError(
            f"not published: --pr needs the GitHub CLI (gh), which is not installed; {kept}",
            hint=f"{INSTALL_HINT}, then run: {commands.rest(pushed=False)}",
        )
    _push(repo, request.remote, state.branch, commands)
    state.published = Published(request.remote, state.branch, state.commit, iso(utc_now()), draft=request.draft)
    store = StateStore(paths.state_file, state)
    store.save()
    if request.pr:
        state.published.pull_request = _open_pull_request(state, request, body_path, commands)
        store.save()
    return state.published


def _push(repo: Path, remote: str, branch: str, commands: _Commands) -> None:
    ref = f"refs/heads/{branch}"
    args = [*_credential_flags(repo), "push", "--no-verify", "--quiet", remote, f"{ref}:{ref}"]
    result = gitops.git(args, repo, check=False)
    if result.returncode != 0:
        lines = (result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}").splitlines()
        raise UserError(
            f"not published: git push to {remote} failed: {redact(lines[-1])}; the run's work is on branch {branch}",
            hint=f"fix that, then run: {commands.rest(pushed=False)}",
        )


def _open_pull_request(state: RunState, request: PublishRequest, body: Path, commands: _Commands) -> str:
    args = ["pr", "create", "--head", state.branch, "--base", request.base or "main", "--title", pr_title(state)]
    args += ["--body-file", str(body)] + (["--draft"] if request.draft else [])
    try:
        result = run_gh(args, Path(state.repo))
    except GhMissing:  # gone since the check above
        result = None
    if result is None or not result.ok:
        why = result.problem() if result is not None else "gh is not installed"
        raise UserError(
            f"branch {state.branch} is pushed to {request.remote}, but gh pr create failed: {redact(why)}",
            hint=f"fix that, then run: {commands.rest(pushed=True)}",
        )
    urls = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("http")]
    return urls[-1] if urls else result.stdout.strip()
