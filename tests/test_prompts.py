"""The prompt layout: the shared part is identical across a phase; the task carries what is the agent's own."""

from __future__ import annotations

from autodev.pipeline import prompts


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
