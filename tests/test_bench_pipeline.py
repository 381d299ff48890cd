"""A small-scale run of `autodev bench pipeline`: sanity of its figures, never their timings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autodev.apps.bench.pipeline import pipeline_benchmark
from autodev.apps.bench.pipeline_figures import VALIDATION, most_at_once
from autodev.apps.bench.pipeline_render import render
from autodev.apps.cli.main import main


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return pipeline_benchmark(time_scale=0.002, features=2, with_cost=False)


def test_speed_figures_are_sane(result: dict[str, Any]) -> None:
    speed = result["speed"]
    for label in ("sequential", "parallel"):
        run = speed[label]
        assert run["status"] == "done"
        assert run["bound_s"] <= run["wall_s"] * 1.05 + 0.05
        assert 0 < run["efficiency"] <= 1.05
        assert run["critical_path"][-1] in ("reviewer", "security-auditor", "doc-master")
    # What parallelism does, read from the agents' recorded spans rather than from how long the runs took
    # (a busy machine can make the parallel run the slower one): with max_parallel = 1 no two agents ran at
    # once; by default the validation agents ran side by side.
    sequential, parallel = speed["sequential"], speed["parallel"]
    assert sequential["most_agents_at_once"] == 1, sequential["agent_spans"]
    assert parallel["most_agents_at_once"] >= 2, parallel["agent_spans"]
    validation = [span for span in parallel["agent_spans"] if span[0] in VALIDATION]
    assert {span[0] for span in validation} == set(VALIDATION)
    assert most_at_once(validation) >= 2, validation


def test_most_at_once_counts_overlapping_spans_only() -> None:
    at = "2026-01-01T00:00:0{}.000000+00:00".format
    assert most_at_once([]) == 0
    assert most_at_once([("a", at(0), at(2)), ("b", at(2), at(3)), ("c", at(3), at(4))]) == 1  # end meets start
    assert most_at_once([("a", at(0), at(2)), ("b", at(1), at(3)), ("c", at(1), at(4))]) == 3
    assert most_at_once([("a", at(0), at(5)), ("b", at(1), at(2)), ("c", at(3), at(4))]) == 2


def test_fast_paths_skip_agents(result: dict[str, Any]) -> None:
    feature = result["speed"]["parallel"]
    for label, run in result["fast_paths"].items():
        assert run["status"] == "done", run["error"]
        assert run["request_class"] == ("feature" if label == "docs plan" else label)
        assert run["agents_run"] < feature["agents_run"]
        assert run["agents_skipped"]
    # a feature request narrowed after its plan: the test writer and the audit are skipped
    assert {"test-master", "security-auditor"} <= set(result["fast_paths"]["docs plan"]["agents_skipped"])


def test_scale_and_rendering(result: dict[str, Any]) -> None:
    scale = result["scale"]
    assert scale["all_done"] and scale["features"] == 2
    assert scale["errors_429"] == 0
    assert scale["throughput_ratio"] > 0 and scale["peak_memory_mb_per_pipeline"] > 0
    text = "\n".join(render(result))
    assert "Fast paths" in text and "Scale" in text
    json.dumps(result)


def test_cli_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import autodev.apps.bench.pipeline as bench

    monkeypatch.setattr(bench, "pipeline_benchmark", lambda scale, features: {"time_scale": scale, "f": features})
    assert main(["bench", "pipeline", "--json", "--time-scale", "0.5", "--features", "0"]) == 0
    assert json.loads(capsys.readouterr().out) == {"time_scale": 0.5, "f": 0}
