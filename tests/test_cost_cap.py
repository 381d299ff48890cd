"""Cost before and during a run: `autodev plan`'s estimate (priors, then history) and the hard cost cap.

The cap's promise is checked from what a run leaves behind: metrics.jsonl has one `call` record per
model call made, so the calls' costs must add up to no more than the cap, and the call the cap refused
must be missing (the stop came before it, not after). A run stopped at its cap has status `budget`
(exit 3) and goes on to `done` with `autodev resume --max-cost` higher.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripts import CALC_FILES, REQUEST, feature_script, git

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.core.errors import EXIT_BUDGET
from autodev.core.records import AgentRecord, CallRecord, of_kind, read_metrics
from autodev.core.usage import Usage
from autodev.engines.local.launch import run_feature
from autodev.models.cost_cap import CostCap, CostCapReached, worst_case_cost
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.pricing import ModelPrice, PriceTable
from autodev.run.estimate import Sample, estimate_agent, percentile

PRICED_CONFIG = CALC_FILES[".autodev/config.toml"] + (
    "max_tokens = 200\n"
    "max_parallel = 1\n"  # one call at a time: the same calls, in the same order, in every run
    '[prices."scripted-fast"]\ninput = 1000.0\noutput = 2000.0\n'
    '[prices."scripted-balanced"]\ninput = 1000.0\noutput = 2000.0\n'
    '[prices."scripted-deep"]\ninput = 1000.0\noutput = 2000.0\n'
)
PRICED_FILES = {**CALC_FILES, ".autodev/config.toml": PRICED_CONFIG}
TABLE = PriceTable({"m": ModelPrice(input=1.0, output=10.0, cache_write=2.0, cache_read=0.1)}, "today")


# ---------------------------------------------------------------- units
def test_the_worst_case_takes_the_dearest_input_rate_and_a_full_reply() -> None:
    worst = worst_case_cost(TABLE, "m", input_tokens=1000, max_tokens=100)
    assert worst == pytest.approx(((1000 * 1.25 + 256) * 2.0 + 100 * 10.0) / 1_000_000)


def test_a_cap_refuses_a_call_that_could_go_over_and_counts_calls_in_flight() -> None:
    worst = worst_case_cost(TABLE, "m", 1000, 100)
    cap = CostCap(limit=worst * 2.5, table=TABLE)
    with cap.reserve("m", 1000, 100) as first, cap.reserve("m", 1000, 100) as second:
        with pytest.raises(CostCapReached), cap.reserve("m", 1000, 100):  # two in flight: a third can't fit
            pass
        first.settle(worst / 2)
        second.settle(None)  # an unpriced reply counts as its worst case
    assert cap.spent == pytest.approx(worst * 1.5)
    assert cap.in_flight == 0
    with cap.reserve("m", 1000, 100) as third:  # the first's unspent half is free again
        third.settle(worst)
    assert cap.reached is not None and cap.spent <= cap.limit


def test_an_estimate_comes_from_history_when_there_is_one_and_from_priors_otherwise() -> None:
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0
    prior = estimate_agent("implementer", "m", TABLE)
    assert prior.source == "priors" and prior.p50_usd is not None and prior.p95_usd is not None
    assert prior.p50_usd < prior.p95_usd
    samples = [Sample(Usage(1_000_000, 0), 99.0), Sample(Usage(3_000_000, 0), 99.0)]
    known = estimate_agent("implementer", "m", TABLE, samples)
    assert (known.source, known.samples, known.p50_usd, known.p95_usd) == ("history", 2, 1.0, 3.0)  # today's price
    unpriced = estimate_agent("implementer", "unknown-model", TABLE, samples)
    assert unpriced.p50_usd == 99.0  # no price today: what the runs cost then


# ---------------------------------------------------------------- end to end
def calls(repo: Path, run_id: str) -> list[CallRecord]:
    return of_kind(read_metrics(repo / ".autodev" / "runs" / run_id / "metrics.jsonl"), CallRecord)


def plan_estimate(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--json", "--max-cost", "5"]) == 0
    estimate: dict[str, Any] = json.loads(capsys.readouterr().out)["cost_estimate"]
    return estimate


def test_plan_estimates_from_priors_on_a_fresh_repository_and_from_history_after_a_run(
    make_repo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(PRICED_FILES)
    fresh = plan_estimate(repo, capsys)
    assert fresh["source"] == "priors" and fresh["max_cost_usd"] == 5.0
    assert {agent["source"] for agent in fresh["agents"]} == {"priors"}
    assert 0 < fresh["p50_usd"] < fresh["p95_usd"]
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    assert "from per-agent token priors and the price table" in capsys.readouterr().out

    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script()))
    assert result.state.status == "done", result.state.error
    after = plan_estimate(repo, capsys)
    assert after["source"] == "history"
    spent = {
        record.agent: record.cost_usd
        for record in of_kind(read_metrics(result.run_dir / "metrics.jsonl"), AgentRecord)
        if record.ran
    }
    for agent in after["agents"]:  # one earlier run: its cost is both the p50 and the p95
        assert agent["samples"] == 1
        assert agent["p50_usd"] == agent["p95_usd"] == pytest.approx(spent[agent["agent"]])
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    assert "from this repository's history (1 earlier run(s))" in capsys.readouterr().out


def test_a_run_stops_before_the_call_that_could_pass_its_cap_and_resumes_to_done_with_a_higher_one(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(feature_script()), encoding="utf-8")
    reference_repo = make_repo(PRICED_FILES, name="reference")
    reference = run_feature(REQUEST, reference_repo, CliOverrides(provider="scripted", script=str(script)))
    assert reference.state.status == "done", reference.state.error
    made = calls(reference_repo, reference.state.run_id)
    total = sum(call.cost_usd or 0.0 for call in made)
    cap = round(total / 2, 4)

    repo = make_repo(PRICED_FILES)
    run = ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)]
    assert main([*run, "--max-cost", str(cap)]) == EXIT_BUDGET
    output = capsys.readouterr().out
    assert "run budget" in output and "--max-cost" in output
    run_id = next((repo / ".autodev" / "runs").iterdir()).name
    state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text())
    assert state["status"] == "budget"
    assert "cost cap of" in state["error"] and "estimated at $" in state["error"]
    assert f"autodev resume {run_id} --max-cost" in state["error"]

    capped = calls(repo, run_id)
    assert sum(call.cost_usd or 0.0 for call in capped) <= cap  # never a call over the cap
    assert all(call.status == "ok" for call in capped)
    # the calls made are the reference run's first ones, and the next one was not made: stopped before it
    assert 0 < len(capped) < len(made)
    assert [call.agent for call in capped] == [call.agent for call in made[: len(capped)]]
    next_call = made[len(capped)]
    stopped = state["agents"][next_call.agent]
    assert stopped["status"] == "cancelled" and "cost cap" in stopped["reason"]
    agent_records = of_kind(read_metrics(repo / ".autodev" / "runs" / run_id / "metrics.jsonl"), AgentRecord)
    assert agent_records[-1].agent == next_call.agent and agent_records[-1].status == "interrupted"
    assert state["cost_usd"] == pytest.approx(sum(call.cost_usd or 0.0 for call in capped))

    capsys.readouterr()
    assert main(["resume", run_id, "--repo", str(repo), "--max-cost", str(round(total * 3, 4))]) == 0
    state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text())
    assert state["status"] == "done", state["error"]
    assert state["options"]["max_cost"] == round(total * 3, 4)
    assert sum(call.cost_usd or 0.0 for call in calls(repo, run_id)) <= total * 3
    assert git(repo, "rev-parse", f"{state['commit']}^{{tree}}") == git(
        reference_repo, "rev-parse", f"{reference.state.commit}^{{tree}}"
    )


def test_a_cap_needs_a_price_for_every_model(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)  # no [prices] for the scripted models
    script = tmp_path / "script.json"
    script.write_text(json.dumps(feature_script()), encoding="utf-8")
    before = git(repo, "status", "--porcelain")
    code = main(
        ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), "--max-cost", "1"]
    )
    assert code == 2
    assert "needs a price for every model" in capsys.readouterr().err
    assert not (repo / ".autodev" / "runs").exists()
    assert git(repo, "status", "--porcelain") == before


def test_a_bad_max_cost_is_a_usage_error(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(PRICED_FILES)
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--max-cost", "0"]) == 2
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--max-cost", "lots"]) == 2
