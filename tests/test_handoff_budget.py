"""The run's handoff budget: the largest handoffs are compacted first, and never below a minimum."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autodev.agent.context.handoffs import MIN_HANDOFF_TOKENS, fit_handoffs


def words(text: str) -> int:
    return len(text.split())


def note(agent: str, tokens: int) -> str:
    return f"[{agent} cut to {tokens}]"


def test_under_budget_nothing_changes() -> None:
    handoffs = {"a": "x " * 100, "b": "y " * 100}
    fitted, report = fit_handoffs(handoffs, 1000, words, note)
    assert fitted == handoffs and not report.compacted and report.total == 200 and not report.over


def test_the_largest_handoff_is_compacted_first_until_the_total_fits() -> None:
    handoffs = {"small": "s " * 300, "large": "l " * 2000, "medium": "m " * 900}
    fitted, report = fit_handoffs(handoffs, 2500, words, note)
    assert list(report.compacted) == ["large"]
    assert report.total <= 2500 and fitted["small"] == handoffs["small"] and fitted["medium"] == handoffs["medium"]
    assert fitted["large"].endswith("]") and "[large cut to" in fitted["large"]
    assert report.compacted["large"]["from"] == 2000


def test_handoffs_are_never_cut_below_the_minimum() -> None:
    handoffs = {name: "w " * 400 for name in "abcdef"}
    _, report = fit_handoffs(handoffs, 300, words, note)
    assert report.over  # reported, not gutted
    assert all(size >= MIN_HANDOFF_TOKENS - 5 for size in report.per_agent.values())


def test_a_run_keeps_its_handoffs_within_budget_tokens(make_repo: Callable[..., Path]) -> None:
    from scripts import CALC_FILES, PLAN, REQUEST, feature_script, final

    from autodev.config.settings import CliOverrides
    from autodev.engines.local.launch import run_feature
    from autodev.models.fakes.scripted import ScriptedProvider

    files = {**CALC_FILES, ".autodev/config.toml": CALC_FILES[".autodev/config.toml"] + "budget_tokens = 600\n"}
    repo = make_repo(files)
    long_plan = PLAN + "\n" + "Plan step. " * 300  # ~900 tokens: alone more than the budget
    script = feature_script({"planner": [final(long_plan)]})
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))
    budget = result.state.handoff_budget.to_json()
    assert result.state.status == "done"
    assert budget["budget"] == 600 and budget["total"] <= 600
    assert "planner" in budget["compacted"]
    assert budget["compacted"]["planner"]["from"] > budget["compacted"]["planner"]["to"]
    planner = result.state.agents["planner"].handoff or ""
    assert "full text in sessions/planner.md" in planner
    assert long_plan.strip() in (result.run_dir / "sessions" / "planner.md").read_text()  # nothing is lost
    # the agents after the planner received the compacted handoff, not the full one
    assert "handoff compacted" in (result.run_dir / "sessions" / "test-master.md").read_text()
