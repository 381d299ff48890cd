"""`autodev doctor`: every check a run depends on, one line each, before any money is spent.

Git (a repository with a commit; clean or dirty), the configuration (valid, and the repository's
widening settings approved), the provider and each model (`model_checks`), the test command run once
in the jail, exactly as the gate runs it (in a detached worktree at HEAD, removed afterwards), free
disk space, and — when publishing is asked for (`--push`, `--pr`) — the remote and the `gh` login.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import anyio

from autodev.apps.setup.checks import Check, fail, ok, warn
from autodev.apps.setup.model_checks import provider_checks
from autodev.config.settings import CliOverrides
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.core.locks import repo_lock
from autodev.run.confinement import run_jail
from autodev.run.gate.project_tests import TestOutcome, run_tests
from autodev.run.plan import RunPlan, prepare

DOCTOR_REQUEST = "autodev doctor: check the set-up"  # prepare() classifies a request; nothing is run with it
LOW_DISK_FAIL = 1 << 30  # a run's worktree, caches and the tests' scratch need some room
LOW_DISK_WARN = 5 << 30
GH_TIMEOUT_S = 30


@dataclass(frozen=True)
class DoctorOptions:
    push: bool = False  # check the remote
    pr: bool = False  # check the remote and the gh login
    remote: str = "origin"
    cli: CliOverrides = CliOverrides()


def git_check(repo_path: Path) -> tuple[Check, Path | None]:
    try:
        repo = gitops.find_repo(repo_path)
        head = gitops.head_commit(repo)
    except UserError as exc:
        return fail("git", exc.message, exc.hint or ""), None
    branch = gitops.git(["branch", "--show-current"], repo, check=False).stdout.strip() or "a detached HEAD"
    dirty = gitops.dirty_paths(repo)
    state = "clean" if not dirty else f"{len(dirty)} uncommitted change(s), not part of a run (it starts from HEAD)"
    return ok("git", f"{repo} on {branch} at {head[:12]}, {state}"), repo


def disk_check(repo: Path) -> Check:
    free = shutil.disk_usage(repo).free
    shown = f"{free / (1 << 30):.1f} GB free at {repo}"
    if free < LOW_DISK_FAIL:
        return fail("disk", shown, "free at least 1 GB: a run keeps a worktree and caches under .autodev")
    if free < LOW_DISK_WARN:
        return warn("disk", shown, "a run and its tests may need more; `autodev clean` removes finished runs")
    return ok("disk", shown)


def trust_check(plan: RunPlan) -> Check:
    notes = plan.settings.ignored_notes()
    if not notes:
        return ok("trust", "nothing in this repository is waiting for approval")
    return fail("trust", f"{len(notes)} repository setting(s) ignored until approved", "review them: autodev trust")


def _outcome_check(outcome: TestOutcome, jail: str) -> Check:
    name = "tests"
    command = " ".join(outcome.command)
    took = f"{outcome.duration_s:.1f} s, jail {jail}"
    report = outcome.report
    if outcome.passed:
        counts = f"{report.passed} passed" if report is not None and report.has_counts else "exit 0"
        return ok(name, f"`{command}` runs: {counts} ({took})")
    tail = outcome.output.strip().splitlines()[-1:] or ["(no output)"]
    if outcome.timed_out:
        return fail(name, f"`{command}` timed out ({took})", "raise test_timeout_s, or make the suite faster")
    if outcome.no_tests:
        return warn(name, f"`{command}` ran no tests ({took})", "nothing would check a change: add tests")
    if report is not None and report.has_counts and (report.total or 0) > 0 and outcome.exit_code == 1:
        return warn(
            name,
            f"`{command}` runs: {report.failed} failed, {report.errors} errors of {report.total} at HEAD ({took})",
            "a run reports these as already failing and does not blame its change for them",
        )
    return fail(
        name,
        f"`{command}` did not run its tests (exit {outcome.exit_code}: {tail[0][:200]})",
        "set test_command (then `autodev trust`), or [sandbox] env / network if the tests need them",
    )


def tests_check(plan: RunPlan) -> Check:
    """Run the test command once in the jail, in a detached worktree at HEAD, as a run's gate would."""
    if plan.test_command is None or plan.tests is None:
        return warn("tests", "no tests found: the gate would have nothing to run", "add tests, or set test_command")
    repo, settings = plan.repo, plan.settings
    tree = repo / ".autodev" / "worktrees" / f"doctor-{secrets.token_hex(3)}"
    try:
        jail = run_jail(settings, tree, repo)
    except UserError as exc:
        return fail("tests", f"no jail to run them in: {exc.message}", exc.hint or "")
    try:
        with repo_lock(gitops.common_dir(repo)):
            gitops.ensure_excludes(repo)
            tree.parent.mkdir(parents=True, exist_ok=True)
            gitops.git(["worktree", "add", "--quiet", "--detach", str(tree), plan.base_commit], repo)
    except (OSError, gitops.GitError) as exc:
        return fail("tests", f"could not make a worktree to run them in: {exc}", "make .autodev writable; free disk")
    try:
        outcome = anyio.run(run_tests, plan.test_command, tree, settings.test_timeout_s, jail, plan.tests)
    finally:
        with repo_lock(gitops.common_dir(repo)):
            gitops.git(["worktree", "remove", "--force", str(tree)], repo, check=False)
            shutil.rmtree(tree, ignore_errors=True)
            gitops.git(["worktree", "prune"], repo, check=False)
    return _outcome_check(outcome, jail.kind)


def publish_checks(repo: Path, options: DoctorOptions) -> list[Check]:
    checks = []
    url = gitops.git(["remote", "get-url", options.remote], repo, check=False)
    if url.returncode != 0:
        checks.append(fail("remote", f"no remote {options.remote!r}", f"git remote add {options.remote} URL"))
    else:
        checks.append(ok("remote", f"{options.remote} is {url.stdout.strip()}"))
    if not options.pr:
        return checks
    if shutil.which("gh") is None:
        checks.append(fail("gh", "the GitHub CLI is not installed", "install it from https://cli.github.com"))
        return checks
    try:
        status = subprocess.run(
            ["gh", "auth", "status"], cwd=repo, capture_output=True, text=True, timeout=GH_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        checks.append(fail("gh", f"gh auth status did not answer: {exc}", "run gh auth status yourself"))
        return checks
    if status.returncode != 0:
        said = (status.stderr.strip() or status.stdout.strip()).splitlines()[:1] or ["not logged in"]
        checks.append(fail("gh", f"not logged in ({said[0]})", "gh auth login"))
    else:
        checks.append(ok("gh", "logged in (gh auth status)"))
    return checks


def _models(plan: RunPlan) -> dict[str, str]:
    """Each distinct model id the pipeline uses, with the tiers (or agents) it serves."""
    users: dict[str, list[str]] = {}
    for agent, resolved in plan.models.items():
        if resolved.model_id is not None:
            label = resolved.tier if resolved.tier != "custom" else agent
            if label not in users.setdefault(resolved.model_id, []):
                users[resolved.model_id].append(label)
    return {model: ", ".join(labels) for model, labels in users.items()}


def run_doctor(repo_path: Path, options: DoctorOptions = DoctorOptions()) -> list[Check]:
    """Every check, in the order a user fixes things: git, config, provider and models, tests, disk, publishing."""
    git_line, repo = git_check(repo_path)
    checks = [git_line]
    if repo is None:
        return checks
    try:
        plan = prepare(DOCTOR_REQUEST, repo, options.cli, require_jail=False)
    except UserError as exc:
        return [*checks, fail("config", exc.message, exc.hint or ""), disk_check(repo)]
    checks.append(ok("config", f"valid ({_config_source(repo)})"))
    checks.append(trust_check(plan))
    checks += provider_checks(plan.settings, _models(plan))
    checks.append(tests_check(plan))
    checks.append(disk_check(repo))
    if options.push or options.pr:
        checks += publish_checks(repo, options)
    return checks


def _config_source(repo: Path) -> str:
    if (repo / ".autodev" / "config.toml").is_file():
        return ".autodev/config.toml"
    return "no repository config: defaults, your user config and the environment (autodev init writes one)"
