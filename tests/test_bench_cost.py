"""`autodev bench cost` runs the real pipeline twice and prices it; figures are sanity-checked, not asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autodev.apps.bench.cache_sim import PromptCacheSimulator
from autodev.apps.bench.cost import steady
from autodev.apps.cli.main import main


def test_bench_cost_json_is_consistent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "cost", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    usd, ratio = result["usd"], result["ratio_to_all_deep"]
    assert ratio["all_deep"] == 1.0
    # caching can only lower a price here, and the deep tier is the most expensive one
    assert usd["tiered_cached"] <= usd["tiered"] <= usd["all_deep"]
    assert usd["all_deep_cached"] <= usd["all_deep"]
    assert 0 < result["cache_read_share"] < 1
    per_agent = result["agents"]
    assert set(per_agent) >= {"researcher-local", "implementer", "security-auditor"}
    assert sum(row["cost_tiered"] for row in per_agent.values()) == pytest.approx(usd["tiered"])
    assert sum(row["cost_tiered_cached"] for row in per_agent.values()) == pytest.approx(usd["tiered_cached"])


def test_cache_simulator_reads_a_repeated_prefix_and_ignores_small_ones() -> None:
    cache = PromptCacheSimulator(min_cacheable_tokens=100)
    big = {"type": "text", "text": "x" * 2000, "cache_control": {"type": "ephemeral"}}
    params = {
        "model": "m",
        "system": [big],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    first = cache.usage(params, output_tokens=5)
    second = cache.usage(params, output_tokens=5)
    assert first.cache_write_tokens > 0 and first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert first.context_tokens == second.context_tokens
    other_model = cache.usage({**params, "model": "n"}, output_tokens=5)
    assert other_model.cache_read_tokens == 0  # caches are per model
    small = PromptCacheSimulator(min_cacheable_tokens=10_000)
    assert small.usage(params, 5).cache_write_tokens == 0


def test_what_differs_between_two_runs_is_counted_as_fixed_text() -> None:
    """`bench cost` printed other figures on every run (issue 21): its prompts carry the temporary
    directory, the run id, commit SHAs, test durations and the interpreter's path. Counted steady, two
    runs' requests are the same text."""

    def steady_request(workdir: str, run_id: str, sha: str, seconds: str, python: str) -> dict[str, Any]:
        text = f"Tests passed (exit 0, {seconds}s): {python} -m pytest at {sha}, in {workdir}/worktrees/{run_id}"
        return steady({"model": "m", "messages": [{"role": "user", "content": text}]}, Path(workdir))

    first = steady_request("/tmp/ab12", "20261203-150048-e4707a", "14e2464ed92a", "0.53", "/usr/bin/python3")
    second = steady_request("/tmp/zz9q", "20261204-091500-0b1c2d", "9f00aa11bb22", "12.1", "/opt/py/python3")
    assert first == second
    assert "Tests passed" in first["messages"][0]["content"]
