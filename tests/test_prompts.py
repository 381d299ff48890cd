"""The prompt layout: the shared part is identical across a phase; the task carries what is the agent's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autodev.agent import prompts


def test_shared_context_is_the_same_for_every_agent_and_carries_the_diff_only_in_review() -> None:
    build = prompts.shared_context("add mul")
    review = prompts.shared_context("add mul", "a.py | 2 +-\n+x")
    assert build.startswith("# Request\n\nadd mul") and "# Change" not in build
    assert review.startswith(build) and review.endswith("```diff\na.py | 2 +-\n+x\n```")


def test_agent_task_orders_its_parts_and_skips_what_is_missing() -> None:
    task = prompts.agent_task(
        {"planner": "plan", "test-master": "tests"}, facts="# Facts", notes="fix it", write_scope="tests/**"
    )
    order = [task.index(s) for s in ("## planner", "## test-master", "# Facts", "# Notes", "You may write only")]
    assert order == sorted(order)
    assert task.endswith(prompts.CLOSING)
    assert prompts.agent_task({}) == prompts.CLOSING


def test_done_handoffs_keeps_pipeline_order_and_drops_missing_ones() -> None:
    found = prompts.done_handoffs(["planner", "researcher-web", "test-master"], {"test-master": "t", "planner": "p"})
    assert list(found) == ["planner", "test-master"]


def test_review_diff_is_capped_with_a_marker() -> None:
    text = prompts.review_diff("stat", "x" * 100, limit=10)
    assert text.startswith("stat\nxxxxxxxxxx") and "diff truncated" in text


def test_project_memory_is_capped_in_tokens_and_says_where_the_rest_is() -> None:
    def count(text: str) -> int:
        return len(text.split())

    memory = prompts.project_memory({"CLAUDE.md": "word " * 50, "AGENTS.md": "other " * 50}, count, cap=60)
    assert memory is not None and memory.startswith("# Project memory")
    assert "## CLAUDE.md" in memory and "## AGENTS.md" in memory
    assert "AGENTS.md cut to fit 60 tokens" in memory
    assert prompts.project_memory({"CLAUDE.md": "  "}, count) is None


def test_planner_and_implementer_receive_the_project_memory(make_repo: Callable[..., Path]) -> None:
    from scripts import CALC_FILES, REQUEST, feature_script

    from autodev.config.settings import CliOverrides
    from autodev.engines.local.launch import run_feature
    from autodev.models.fakes.scripted import ScriptedProvider

    repo = make_repo({**CALC_FILES, "CLAUDE.md": "Always use type hints in calc."})
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(feature_script()))
    sessions = result.run_dir / "sessions"
    for agent in ("planner", "implementer"):
        assert "Always use type hints in calc." in (sessions / f"{agent}.md").read_text()
    assert "# Project memory" not in (sessions / "reviewer.md").read_text()
