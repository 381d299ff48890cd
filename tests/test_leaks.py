"""Many runs in a row leak nothing: no worktrees, branches, file descriptors, threads or temporary files.

Issue #9: "50 demo runs in a row without leaking". The demo pipeline (its bundled project and its
script, replayed without the scripted delays) runs `LEAK_RUNS` times in-process through `autodev run`
on one repository, then `autodev clean` and `autodev clean --purge` tidy up. Everything is checked
through public behaviour only (exit codes, `git`, the file system, `/proc/self/fd`), so the run
lifecycle can change underneath.

What a run costs: with the delays gone, nearly all of a demo run is the project's test suite started
in the jail (its 11 tests take milliseconds; starting the interpreter and pytest with the plugins of
the machine's Python takes about a second, more on a busy machine). A scripted run starts it three
times: test-master's RunTests (its new tests fail first), implementer's RunTests and the gate (the
baseline runs once, on the first run; later runs read it from the cache). Every `FULL_RUN_EVERY`-th
run is the demo as scripted; the others leave the agents' two RunTests calls out of the script
(`without_agent_test_runs`), so each still crosses the whole pipeline (worktree, branch, agents in
parallel, the jailed gate with its report in a temporary directory, the analysers, the squashed
commit) with one start of the suite instead of three. The agents' test runs go through the same
jailed runner as the gate, and the full runs spread over the fifty show a leak of theirs as growth.

Temporary files: the test points `tempfile` (and, through TMPDIR, every program a run starts: git, the
test gate, ruff, bandit) at a private directory, so other processes on the machine cannot make the
count flaky and everything a run leaves in its temp dir is seen.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts import git

from autodev.apps.cli.common import counted
from autodev.apps.cli.main import main
from autodev.apps.demo import DEMO_REQUEST, DEMO_TIER_MODELS, demo_dir, make_demo_repo

LEAK_RUNS = int(os.environ.get("AUTODEV_LEAK_RUNS", "50"))
FULL_RUN_EVERY = 10  # runs 1, 11, 21, 31 and 41 are the demo as scripted, agents' RunTests calls included
FD_SLACK = 4  # lazily opened, then kept: e.g. a log handler or /dev/urandom
THREAD_SETTLE_S = 5.0
FD_DIR = Path("/proc/self/fd")

pytestmark = pytest.mark.skipif(not FD_DIR.is_dir(), reason="counting file descriptors needs /proc")


# ---------------------------------------------------------------- measuring
def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what each points at."""
    fds: dict[int, str] = {}
    for entry in FD_DIR.iterdir():
        try:
            fds[int(entry.name)] = os.readlink(entry)
        except OSError:  # the descriptor listdir itself used, closed again by now
            continue
    return fds


def settled_threads(baseline: int) -> list[str]:
    """Names of the threads still alive once idle worker threads had a moment to exit."""
    deadline = time.monotonic() + THREAD_SETTLE_S
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    return [thread.name for thread in threading.enumerate()]


def tree(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))


@dataclass
class Baseline:
    fds: dict[int, str]
    threads: int
    fd_counts: list[int] = field(default_factory=list)

    @classmethod
    def take(cls) -> Baseline:
        return cls(open_fds(), threading.active_count())

    def assert_no_fd_growth(self) -> None:
        now = open_fds()
        new = {fd: target for fd, target in now.items() if fd not in self.fds}
        assert len(now) - len(self.fds) <= FD_SLACK, f"file descriptors grew: new ones: {new}"
        assert not [t for t in new.values() if "/.autodev/" in t or "autodev-" in t], new

    def assert_threads_back(self) -> None:
        names = settled_threads(self.threads)
        assert len(names) <= self.threads, f"threads left behind: {names}"


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir of our own for this process and every program it starts."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    assert tempfile.gettempdir() == str(private)
    yield private


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    return make_demo_repo(tmp_path)


@pytest.fixture
def fast_script(tmp_path: Path) -> Path:
    """The demo's script with its delays removed, outside the repository (so it stays clean)."""
    return write_script(tmp_path / "demo-script.json", demo_script())


def demo_script() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((demo_dir() / "script.yaml").read_text(encoding="utf-8"))
    for replies in data["agents"].values():
        for reply in replies:
            reply.pop("delay", None)
    return data


def without_agent_test_runs(script: dict[str, Any]) -> dict[str, Any]:
    """The script without the replies that call RunTests (test-master's and implementer's own test runs)."""

    def runs_tests(reply: dict[str, Any]) -> bool:
        return any(call["name"] == "RunTests" for call in reply.get("tool_calls", []))

    agents = {
        agent: [reply for reply in replies if not runs_tests(reply)] for agent, replies in script["agents"].items()
    }
    return {**script, "agents": agents}


def agent_test_runs(repo: Path, run_id: str) -> int:
    """How many times the run's agents ran the project's tests themselves (RunTests), from its metrics."""
    metrics = repo / ".autodev" / "runs" / run_id / "metrics.jsonl"
    records = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines()]
    return sum(1 for record in records if record["kind"] == "timer" and record["name"] == "agent_tests")


def write_script(path: Path, script: dict[str, Any]) -> Path:
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def run_argv(repo: Path, script: Path) -> list[str]:
    models = [part for model in DEMO_TIER_MODELS for part in ("--model", model)]
    return ["run", DEMO_REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), *models]


def autodev_run(repo: Path, script: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main([*run_argv(repo, script), "--json"])
    captured = capsys.readouterr()  # read every time: 50 runs of progress lines need not pile up
    state: dict[str, Any] = json.loads(captured.out)
    state["exit_code"] = code
    return state


def checkout_facts(repo: Path) -> dict[str, str]:
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
    }


def clean(repo: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["clean", "--repo", str(repo), *flags]) == 0
    return capsys.readouterr().out


def assert_nothing_left(repo: Path, checkout: dict[str, str], baseline: Baseline, private_tmp: Path) -> None:
    """After `clean --purge`: only the main checkout, as it was, and the process as it was before the runs."""
    assert_all_cleaned(repo)
    assert checkout_facts(repo) == checkout
    baseline.assert_no_fd_growth()
    baseline.assert_threads_back()
    assert tree(private_tmp) == [], "temporary files left behind"


def assert_all_cleaned(repo: Path) -> None:
    worktrees = [
        line for line in git(repo, "worktree", "list", "--porcelain").splitlines() if line.startswith("worktree ")
    ]
    assert worktrees == [f"worktree {repo}"], worktrees
    assert git(repo, "branch", "--list", "autodev/*").strip() == ""
    assert git(repo, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    leftover = repo / ".autodev" / "worktrees"
    assert not leftover.exists() or tree(leftover) == [], tree(leftover)
    git_worktrees = repo / ".git" / "worktrees"
    assert not git_worktrees.exists() or tree(git_worktrees) == [], tree(git_worktrees)
    runs = repo / ".autodev" / "runs"
    assert not runs.exists() or tree(runs) == [], tree(runs)


# ---------------------------------------------------------------- the tests
@pytest.mark.timeout(1800)  # fifty whole runs: minutes on a busy 2-core machine, over the default per-test limit
def test_fifty_demo_runs_leak_nothing(
    demo_repo: Path, fast_script: Path, tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lighter = write_script(tmp_path / "demo-script-no-agent-tests.json", without_agent_test_runs(demo_script()))
    checkout = checkout_facts(demo_repo)
    baseline = Baseline.take()
    started = time.perf_counter()

    run_ids: list[str] = []
    for index in range(LEAK_RUNS):
        full = index % FULL_RUN_EVERY == 0
        state = autodev_run(demo_repo, fast_script if full else lighter, capsys)
        assert (state["exit_code"], state["status"]) == (0, "done"), (index, state.get("error"))
        assert state["commit"], index
        assert agent_test_runs(demo_repo, state["run_id"]) == (2 if full else 0), index
        run_ids.append(state["run_id"])
        baseline.fd_counts.append(len(open_fds()))
    elapsed = time.perf_counter() - started

    assert len(set(run_ids)) == LEAK_RUNS
    # file descriptors: no growth from run to run (a leak of one per run would show 49 here) ...
    assert max(baseline.fd_counts) - baseline.fd_counts[0] <= 1, baseline.fd_counts
    baseline.assert_no_fd_growth()  # ... and back near where we started
    baseline.assert_threads_back()
    assert tree(private_tmp) == [], "temporary files left by the runs"
    assert len(git(demo_repo, "worktree", "list").splitlines()) == LEAK_RUNS + 1  # before clean: one per run
    assert checkout_facts(demo_repo) == checkout  # the user's checkout never moved

    assert f"removed {counted(LEAK_RUNS, 'worktree')}" in clean(demo_repo, capsys)
    assert len(git(demo_repo, "branch", "--list", "autodev/*").splitlines()) == LEAK_RUNS  # done runs' results stay
    clean(demo_repo, capsys, "--purge")
    assert_nothing_left(demo_repo, checkout, baseline, private_tmp)
    print(
        f"\n{LEAK_RUNS} demo runs in {elapsed:.1f} s ({elapsed / LEAK_RUNS:.2f} s each); fds {len(baseline.fds)} -> "
        f"{baseline.fd_counts[0]} after run 1 -> {baseline.fd_counts[-1]} after run {LEAK_RUNS} -> "
        f"{len(open_fds())} after clean; threads {baseline.threads} -> {threading.active_count()}"
    )


def test_a_failed_run_and_its_clean_leak_nothing(
    demo_repo: Path, tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = demo_script()
    # the implementer's model goes away mid-run: test-master has already written its tests in the worktree
    script["agents"]["implementer"] = [{"error": "anthropic API error 529: Overloaded"}]
    failing = write_script(tmp_path / "failing-script.json", script)
    checkout = checkout_facts(demo_repo)
    baseline = Baseline.take()

    state = autodev_run(demo_repo, failing, capsys)
    assert (state["exit_code"], state["status"]) == (1, "failed")
    assert "529" in state["error"]
    assert (demo_repo / ".autodev" / "worktrees" / state["run_id"]).is_dir()  # kept for a look (or a resume)
    baseline.assert_no_fd_growth()
    baseline.assert_threads_back()
    assert tree(private_tmp) == []

    clean(demo_repo, capsys)
    assert not (demo_repo / ".autodev" / "worktrees" / state["run_id"]).exists()
    clean(demo_repo, capsys, "--purge")
    assert_nothing_left(demo_repo, checkout, baseline, private_tmp)
