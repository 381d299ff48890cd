"""Checkpoints and `autodev resume`: a run stopped at any point ends as an uninterrupted run would.

The end state compared is what a user keeps: the tree of the final commit, every agent's status,
handoff and number of completed runs, and the run's status. Times, gate-run counts and costs of
cut-off calls legitimately differ.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ISOLATED_ENV
from conftest import git as conftest_git
from scripts import (
    APPROVE,
    CALC_FILES,
    NO_DOCS,
    REQUEST,
    WRONG_MUL_IMPL,
    append_to,
    edit_mul,
    error,
    feature_script,
    final,
    fix_mul,
    git,
    implemented,
    tools,
    trust_if_valid,
    verdict,
)

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.core.errors import RunInterrupted
from autodev.core.locks import FileLock, holder, run_lock_path
from autodev.core.process import die_with_parent
from autodev.engines.local.launch import resume_run, run_feature
from autodev.models import ModelRequest, ModelResponse
from autodev.models.fakes.scripted import ScriptedModel, ScriptedProvider
from autodev.run.state import RunState

SCRIPTED = CliOverrides(provider="scripted")


def long_script(delay: float = 0.0) -> dict[str, Any]:
    """Every step of a run: a failing gate and its fix, a remediation cycle, docs written twice."""
    d = delay
    return feature_script(
        {
            "implementer": [
                tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul.", delay=d),
                final(implemented("- Added mul."), d),
                tools(fix_mul(), text="Fixing mul.", delay=d),
                final(implemented("- mul multiplies now."), d),
                final(implemented("- none", "## Addressed\n- Added the docstring note."), d),
            ],
            "reviewer": [verdict("REQUEST_CHANGES", "- say what mul does", d), final(APPROVE, d)],
            "doc-master": [
                tools(append_to("README.md", "A tiny calculator.\n", "\n`mul(a, b)` multiplies.\n"), delay=d),
                final(NO_DOCS, d),
                final(NO_DOCS, d),
            ],
        },
        delay=delay,
    )


def end_state(repo: Path, run_id: str) -> dict[str, Any]:
    state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text())
    return {
        "status": state["status"],
        "tree": git(repo, "rev-parse", f"{state['commit']}^{{tree}}").strip() if state["commit"] else None,
        "commits_on_branch": git(repo, "rev-list", "--count", f"{state['base_commit']}..{state['branch']}").strip(),
        "agents": {
            name: (agent["status"], agent["handoff"], agent["ended_runs"]) for name, agent in state["agents"].items()
        },
    }


@dataclass(frozen=True)
class Uninterrupted:
    repo: Path
    state: RunState


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Uninterrupted:
    """The long script's run, never stopped: made once for the module, as the tests only read it (the
    repository and its run are left as the run ended them). In the environment `isolated_env` gives a
    test, which a module fixture runs before."""
    base = tmp_path_factory.mktemp("uninterrupted")
    with pytest.MonkeyPatch.context() as env:
        for name in ISOLATED_ENV:
            env.delenv(name, raising=False)
        env.setenv("XDG_CONFIG_HOME", str(base / "xdg"))
        repo = base / "reference"
        repo.mkdir()
        conftest_git(repo, "init", "--quiet", "--initial-branch=main")
        for rel, content in CALC_FILES.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(content, encoding="utf-8")
        conftest_git(repo, "add", "-A")
        conftest_git(repo, "commit", "--quiet", "-m", "initial")
        trust_if_valid(repo)
        result = run_feature(REQUEST, repo, SCRIPTED, provider=ScriptedProvider(long_script()))
    assert result.state.status == "done", result.state.error
    return Uninterrupted(repo, result.state)


@pytest.fixture
def reference(uninterrupted: Uninterrupted) -> dict[str, Any]:
    """The uninterrupted run's end state, every resumed run is compared with (a fresh dict per test)."""
    return end_state(uninterrupted.repo, uninterrupted.state.run_id)


def test_an_uninterrupted_run_checkpoints_each_writer_and_ends_as_one_commit(uninterrupted: Uninterrupted) -> None:
    repo, state = uninterrupted.repo, uninterrupted.state
    assert state.status == "done", state.error
    writers = [(c.agent, c.run) for c in state.checkpoints]
    assert writers == [("test-master", 1), ("implementer", 1), ("implementer", 2), ("doc-master", 1)]
    assert git(repo, "rev-list", "--count", f"{state.base_commit}..{state.branch}").strip() == "1"
    assert state.progress.step == "finish"
    assert state.agents["implementer"].checkpoint == state.checkpoints[2].commit
    # the squash keeps exactly the last checkpoint's tree
    assert git(repo, "rev-parse", f"{state.commit}^{{tree}}") == git(repo, "rev-parse", f"{state.checkpoint}^{{tree}}")


def test_resume_after_a_provider_failure_ends_like_an_uninterrupted_run(
    make_repo: Any, reference: dict[str, Any]
) -> None:
    repo = make_repo(CALC_FILES)
    script = long_script()
    script["agents"]["reviewer"] = [error("529 overloaded: retries exhausted"), *script["agents"]["reviewer"]]
    first = run_feature(REQUEST, repo, SCRIPTED, provider=ScriptedProvider(script))
    assert first.state.status == "failed"
    assert "529 overloaded" in (first.state.error or "")
    assert first.state.progress.to_json() == {"step": "validate", "cycle": 0}

    resumed = resume_run(first.state.run_id, repo, provider=ScriptedProvider(script))
    assert resumed.state.status == "done", resumed.state.error
    assert resumed.state.resumes == 1
    agents = resumed.state.agents
    assert agents["planner"].runs == 1  # finished agents are not run again
    assert agents["researcher-local"].runs == 1
    assert agents["reviewer"].runs == 3  # the failed run, then the two of an uninterrupted run
    got = end_state(repo, first.state.run_id)
    got["agents"]["reviewer"] = (*got["agents"]["reviewer"][:2], got["agents"]["reviewer"][2] - 1)
    assert got == reference


class InterruptingProvider(ScriptedProvider):
    """Presses Ctrl-C (a real SIGINT to this process) when `agent` makes its `at`-th model request."""

    def __init__(self, script: dict[str, Any], agent: str, at: int) -> None:
        super().__init__(script)
        self.agent, self.at, self.seen = agent, at, 0

    def model(self, model_id: str) -> ScriptedModel:
        provider = self

        class Interrupting(ScriptedModel):
            async def complete(self, request: ModelRequest) -> ModelResponse:
                if request.agent == provider.agent:
                    provider.seen += 1
                    if provider.seen == provider.at:
                        signal.raise_signal(signal.SIGINT)
                return await super().complete(request)

        return Interrupting(self.queue, model_id, delay_scale=self.delay_scale)


def test_ctrl_c_stops_cleanly_saves_state_and_resume_goes_on(make_repo: Any, reference: dict[str, Any]) -> None:
    repo = make_repo(CALC_FILES)
    script = long_script()
    with pytest.raises(RunInterrupted) as stopped:
        run_feature(REQUEST, repo, SCRIPTED, provider=InterruptingProvider(script, "implementer", 3))
    assert stopped.value.exit_code == 130
    assert "autodev resume" in (stopped.value.hint or "")
    (run_dir,) = (repo / ".autodev" / "runs").iterdir()
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "interrupted"
    assert state["agents"]["implementer"]["status"] == "cancelled"
    assert "resume" in state["agents"]["implementer"]["reason"]
    assert holder(run_lock_path(run_dir)) is None  # the lock was released

    resumed = resume_run(run_dir.name, repo, provider=ScriptedProvider(script))
    assert resumed.state.status == "done", resumed.state.error
    assert end_state(repo, run_dir.name) == reference
    # the cut-off run's call is on record: reports count it as the implementer's `interrupted` run
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    cut_off = [r for r in records if r["kind"] == "agent" and r["status"] == "interrupted"]
    calls = [r for r in records if r["kind"] == "call" and r["agent"] == "implementer"]
    assert [(r["agent"], r["turns"]) for r in cut_off] == [("implementer", 1)]
    assert cut_off[0]["input_tokens"] == calls[2]["input_tokens"]


def test_resume_brings_back_a_cleaned_worktree_and_clean_keeps_unfinished_work(
    make_repo: Any, reference: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    script = long_script()
    # the implementer edits, then its provider gives up: the edit is unfinished work, not a checkpoint
    script["agents"]["implementer"] = [
        tools(edit_mul(WRONG_MUL_IMPL), text="Adding mul."),
        error("500 internal server error"),
        *script["agents"]["implementer"],
    ]
    first = run_feature(REQUEST, repo, SCRIPTED, provider=ScriptedProvider(script))
    run_id = first.state.run_id
    assert first.state.status == "failed"
    assert main(["clean", "--repo", str(repo), "--json"]) == 0
    cleaned = json.loads(capsys.readouterr().out)
    assert cleaned["worktrees"] and not Path(first.state.worktree).exists()
    assert f"autodev/{run_id}" not in cleaned["branches"]  # it holds test-master's checkpoint
    (patch,) = cleaned["patches"]
    assert "return a + b" in Path(patch).read_text()

    assert main(["resume", run_id, "--repo", str(repo), "--json"]) == 2  # the CLI builds no scripted provider
    capsys.readouterr()
    resumed = resume_run(run_id, repo, provider=ScriptedProvider(script))
    assert resumed.state.status == "done", resumed.state.error
    got = end_state(repo, run_id)
    got["agents"]["implementer"] = (*got["agents"]["implementer"][:2], got["agents"]["implementer"][2] - 1)
    assert got == reference


def test_resume_refuses_done_live_and_unknown_runs(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(CALC_FILES)
    done = run_feature(REQUEST, repo, SCRIPTED, provider=ScriptedProvider(feature_script())).state
    assert main(["resume", done.run_id, "--repo", str(repo)]) == 2
    assert "already done" in capsys.readouterr().err

    failing = feature_script({"implementer": [tools(edit_mul()), error("x")]})  # it fails with work to keep
    failed = run_feature(REQUEST, repo, SCRIPTED, provider=ScriptedProvider(failing))
    lock = FileLock(run_lock_path(repo / ".autodev" / "runs" / failed.state.run_id))
    assert lock.acquire()
    try:
        assert main(["resume", failed.state.run_id, "--repo", str(repo)]) == 2
        assert f"process {os.getpid()}" in capsys.readouterr().err
        assert main(["clean", "--force", "--repo", str(repo)]) == 0
        assert "still running" in capsys.readouterr().out
        assert Path(failed.state.worktree).is_dir()  # a live run is never cleaned
    finally:
        lock.release()

    assert main(["resume", "nosuchrun", "--repo", str(repo)]) == 2
    assert "not found" in capsys.readouterr().err


# ---------------------------------------------------------------- real processes, real signals
def autodev(repo: Path, script: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "autodev", *args, "--repo", str(repo)]
    if args[0] == "run":
        command += ["--provider", "scripted", "--script", str(script)]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent()
    )


def run_id_of(repo: Path) -> str | None:
    runs = repo / ".autodev" / "runs"
    found = sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []
    return found[0] if found else None


def wait_until_working(repo: Path, process: subprocess.Popen[str]) -> bool:
    """True once `process` holds its run's lock (it is past start-up); False if it ended first."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        run_id = run_id_of(repo)
        run_dir = repo / ".autodev" / "runs" / str(run_id)
        if run_id and holder(run_lock_path(run_dir)) == process.pid and (run_dir / "state.json").is_file():
            return True
        time.sleep(0.02)
    return False


def wait_for_transitions(repo: Path, process: subprocess.Popen[str], count: int) -> None:
    """Wait until the run has saved its state `count` more times (or ended)."""
    state_file = repo / ".autodev" / "runs" / str(run_id_of(repo)) / "state.json"
    seen, last = 0, state_file.stat().st_mtime_ns
    deadline = time.monotonic() + 60
    while seen < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
        now = state_file.stat().st_mtime_ns
        if now != last:
            seen, last = seen + 1, now


def progress_of(repo: Path) -> str:
    state = json.loads((repo / ".autodev" / "runs" / str(run_id_of(repo)) / "state.json").read_text())
    running = [name for name, agent in state["agents"].items() if agent["status"] == "running"]
    return f"{state['progress']['step']}:{','.join(running) or '-'}"


def test_sigkill_at_random_points_then_resume_ends_like_an_uninterrupted_run(
    make_repo: Any, reference: dict[str, Any], tmp_path: Path
) -> None:
    """A laptop lid, an OOM kill: SIGKILL gives the run no chance to save anything."""
    repo = make_repo(CALC_FILES)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(long_script(delay=0.12)))
    rng = random.Random(20261126)
    kills: list[str] = []  # the step each kill hit
    max_kills = 5
    process = autodev(repo, script, "run", REQUEST)
    for _ in range(3 * max_kills):
        if len(kills) < max_kills and wait_until_working(repo, process):
            # a random point of the run itself (after n saved transitions), not of this machine's speed
            wait_for_transitions(repo, process, rng.randint(1, 8))
            time.sleep(rng.uniform(0.0, 0.2))
            if process.poll() is None:
                kills.append(progress_of(repo))
                process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=120)
        if process.returncode == 0:
            break
        assert process.returncode in (1, 2, -signal.SIGKILL), err
        run_id = run_id_of(repo)
        process = autodev(repo, script, "resume", run_id) if run_id else autodev(repo, script, "run", REQUEST)
    else:
        pytest.fail(f"the run never finished; kills at {kills}")
    run_id = run_id_of(repo)
    assert run_id is not None
    assert len(kills) == max_kills
    assert len(set(kills)) >= 2, kills  # killed in different steps of the run
    got = end_state(repo, run_id)
    assert got == reference, f"after kills at {kills}"
    # nothing left behind: one worktree for the run, no stale locks or temp files
    run_dir = repo / ".autodev" / "runs" / run_id
    assert not list(run_dir.glob(".state.json.*"))
    assert holder(run_lock_path(run_dir)) is None


def test_two_runs_at_once_on_one_repository_do_not_interfere(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(CALC_FILES)
    before = git(repo, "status", "--porcelain", "--untracked-files=all"), git(repo, "rev-parse", "HEAD")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(long_script(delay=0.05)))
    processes = [autodev(repo, script, "run", REQUEST) for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    runs = sorted((repo / ".autodev" / "runs").iterdir())
    assert len(runs) == 2
    states = [json.loads((run / "state.json").read_text()) for run in runs]
    assert len({s["worktree"] for s in states}) == 2
    trees = {git(repo, "rev-parse", f"{s['commit']}^{{tree}}") for s in states}
    assert len(trees) == 1  # the same script on the same base: the same result, twice
    assert (git(repo, "status", "--porcelain", "--untracked-files=all"), git(repo, "rev-parse", "HEAD")) == before
    cache = repo / ".autodev" / "cache" / "performance_metrics.jsonl"
    lines = cache.read_text().splitlines()
    assert all(json.loads(line)["run_id"] in {s["run_id"] for s in states} for line in lines)
    assert main(["clean", "--purge", "--repo", str(repo)]) == 0
    assert git(repo, "worktree", "list").count("\n") == 1
    assert git(repo, "branch", "--list", "autodev/*").strip() == ""
