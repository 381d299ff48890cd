"""The scheduler: real parallelism, the max_parallel limit, failure propagation and skips."""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Sequence

import anyio
import pytest

from autodev.run.graph import FEATURE_PIPELINE, Node, Pipeline
from autodev.run.scheduler import run_graph

NAP = 0.05


class Recorder:
    """A fake `run_one`: sleeps, records its interval, and fails for the names it is told to."""

    def __init__(self, fail: Collection[str] = (), nap: float = NAP) -> None:
        self.fail = set(fail)
        self.nap = nap
        self.intervals: dict[str, tuple[float, float]] = {}
        self.blocked: dict[str, str] = {}
        self.running = 0
        self.peak = 0

    async def run_one(self, name: str) -> bool:
        start = time.perf_counter()
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await anyio.sleep(self.nap)
        finally:
            self.running -= 1
        self.intervals[name] = (start, time.perf_counter())
        return name not in self.fail

    def on_blocked(self, name: str, reason: str) -> None:
        self.blocked[name] = reason

    def run(
        self,
        pipeline: Pipeline,
        names: Sequence[str] | None = None,
        *,
        max_parallel: int = 4,
        skipped: Collection[str] = (),
    ) -> dict[str, bool]:
        async def main() -> dict[str, bool]:
            return await run_graph(
                pipeline,
                pipeline.names if names is None else names,
                self.run_one,
                max_parallel=max_parallel,
                on_blocked=self.on_blocked,
                skipped=skipped,
            )

        return anyio.run(main)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_independent_nodes_overlap() -> None:
    rec = Recorder()
    result = rec.run(FEATURE_PIPELINE)
    assert result == dict.fromkeys(FEATURE_PIPELINE.names, True)
    iv = rec.intervals
    assert overlap(iv["researcher-local"], iv["researcher-web"])
    assert overlap(iv["reviewer"], iv["security-auditor"])
    assert overlap(iv["reviewer"], iv["doc-master"])
    assert overlap(iv["security-auditor"], iv["doc-master"])
    assert rec.peak == 3
    assert rec.blocked == {}


def test_dependencies_start_after_they_finish() -> None:
    rec = Recorder(nap=0.01)
    rec.run(FEATURE_PIPELINE)
    iv = rec.intervals
    for node in FEATURE_PIPELINE.nodes:
        for dep in node.needs:
            assert iv[dep][1] <= iv[node.agent][0], (dep, node.agent)


def test_max_parallel_one_serialises() -> None:
    rec = Recorder(nap=0.02)
    rec.run(FEATURE_PIPELINE, max_parallel=1)
    assert len(rec.intervals) == len(FEATURE_PIPELINE.nodes)
    ordered = sorted(rec.intervals.values())
    for earlier, later in itertools.pairwise(ordered):
        assert earlier[1] <= later[0]
    assert rec.peak == 1


def test_max_parallel_two_caps_a_wide_stage() -> None:
    pipeline = Pipeline(tuple(Node(f"n{i}") for i in range(5)))
    rec = Recorder(nap=0.02)
    rec.run(pipeline, max_parallel=2)
    assert rec.peak == 2
    assert len(rec.intervals) == 5


def test_failed_node_blocks_its_dependents_but_not_an_independent_sibling() -> None:
    pipeline = Pipeline(
        (
            Node("a"),
            Node("b", ("a",)),
            Node("c", ("b",)),
            Node("sibling"),
            Node("after-sibling", ("sibling",)),
        )
    )
    rec = Recorder(fail={"a"}, nap=0.01)
    result = rec.run(pipeline)
    assert result == {"a": False, "b": False, "c": False, "sibling": True, "after-sibling": True}
    assert set(rec.intervals) == {"a", "sibling", "after-sibling"}  # b and c never ran
    assert set(rec.blocked) == {"b", "c"}
    assert "a did not finish" in rec.blocked["b"]
    assert "b did not finish" in rec.blocked["c"]


def test_failure_in_parallel_stage_keeps_siblings_results() -> None:
    rec = Recorder(fail={"security-auditor"}, nap=0.01)
    result = rec.run(FEATURE_PIPELINE)
    assert result["security-auditor"] is False
    assert result["reviewer"] is True and result["doc-master"] is True
    assert rec.blocked == {}


def test_skipped_nodes_count_as_satisfied_and_never_run() -> None:
    pipeline = Pipeline((Node("a"), Node("b", ("a",)), Node("c", ("b",))))
    rec = Recorder(nap=0.01)
    result = rec.run(pipeline, skipped={"b"})
    assert result == {"a": True, "b": True, "c": True}
    assert set(rec.intervals) == {"a", "c"}
    assert rec.blocked == {}


def test_skipped_node_behind_a_failure_stays_skipped_and_passes_the_failure_on() -> None:
    """Skipped by policy is not blocked (issue 21): only what needs it is, naming the agent that failed."""
    pipeline = Pipeline((Node("a"), Node("b", ("a",)), Node("c", ("b",))))
    rec = Recorder(fail={"a"}, nap=0.01)
    assert rec.run(pipeline, skipped={"b"}) == {"a": False, "b": False, "c": False}
    assert rec.blocked == {"c": "not run: a did not finish"}


def test_dependencies_outside_names_are_satisfied() -> None:
    rec = Recorder(nap=0.01)
    result = rec.run(FEATURE_PIPELINE, ["reviewer", "security-auditor", "doc-master"])
    assert result == {"reviewer": True, "security-auditor": True, "doc-master": True}
    assert overlap(rec.intervals["reviewer"], rec.intervals["doc-master"])


def test_a_bug_in_run_one_cancels_the_group() -> None:
    pipeline = Pipeline((Node("boom"), Node("slow")))
    finished: list[str] = []

    async def run_one(name: str) -> bool:
        if name == "boom":
            await anyio.sleep(0.01)
            raise RuntimeError("bug")
        await anyio.sleep(120)
        finished.append(name)
        return True

    async def main() -> None:
        await run_graph(pipeline, pipeline.names, run_one, max_parallel=2, on_blocked=lambda n, r: None)

    started = time.perf_counter()
    with pytest.raises(ExceptionGroup) as info:
        anyio.run(main)
    assert info.group_contains(RuntimeError, match="bug")
    assert finished == []
    assert time.perf_counter() - started < 60  # cancelled, not waited for
