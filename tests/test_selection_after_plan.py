"""Selection after the plan: a feature request whose plan changes only documentation (or configuration,
or packaging) files skips what that class skips, and the diff re-check brings it all back when the
change reaches code. Units on the decision, then real runs of the local engine with the scripted model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    ADDRESSED,
    APPROVE,
    AUDIT_APPROVE,
    CALC_FILES,
    NO_DOCS,
    RESEARCH,
    TESTS_WRITTEN,
    WEB_NOTES,
    append_to,
    edit_mul,
    edit_mul_test,
    final,
    implemented,
    settle,
    tools,
)

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import RunResult, execute, run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.approval import ApprovalAnswer
from autodev.run.layout import RunPaths
from autodev.run.plan import prepare
from autodev.run.selection.after_plan import OUTLOOK, asks_for_tests, narrow_after_plan
from autodev.run.selection.decide import Selection
from autodev.run.selection.repo import listing_lookup

FILES = ["README.md", "docs/guide.md", "calc/__init__.py", "tests/test_calc.py", "tox.ini", "pyproject.toml"]
PENDING = ["test-master", "implementer", "reviewer", "security-auditor", "doc-master"]
DOCS_PLAN = (
    "## Goal\nExplain rounding in the README.\n## Changes\n1. README.md — add a section on rounding\n"
    "2. docs/guide.md: link to it\n## Tests to write\n- none: documentation only\n## Docs\n- README.md\n"
    "## Risks\n- none"
)
FEATURE = Selection("feature", ("no docs, typo or config signal: unsure, so feature (the full pipeline)",))


def lookup(path: str) -> Any:
    return listing_lookup(lambda: FILES)(path)


def narrow(handoff: str, selection: Selection = FEATURE) -> Any:
    return narrow_after_plan(selection, handoff, lookup, PENDING, protected=("implementer",))


def test_a_plan_that_changes_only_documentation_takes_the_docs_path() -> None:
    planned = narrow(DOCS_PLAN)
    assert planned is not None and planned.change_type == "docs"
    assert set(planned.skips) == {"test-master", "security-auditor"}  # researcher-web's turn has passed
    assert "README.md (docs, exists)" in planned.reasons[0] and "asks for no tests" in planned.reasons[0]


def test_the_highest_class_among_the_files_wins() -> None:
    plan = DOCS_PLAN.replace("2. docs/guide.md: link to it", "2. tox.ini — run the doctests of README.md")
    planned = narrow(plan)
    assert planned is not None and planned.change_type == "config"
    plan = DOCS_PLAN.replace("2. docs/guide.md: link to it", "2. `pyproject.toml` — add the docs extra")
    planned = narrow(plan)
    assert planned is not None and planned.change_type == "deps" and set(planned.skips) == {"test-master"}


@pytest.mark.parametrize(
    "plan",
    [
        DOCS_PLAN.replace("2. docs/guide.md: link to it", "2. calc/__init__.py — round half to even"),  # code
        DOCS_PLAN.replace("2. docs/guide.md: link to it", "2. Update the rounding helper"),  # an item names no file
        DOCS_PLAN.replace("- none: documentation only", "- tests/test_calc.py — rounding of 2.5"),  # tests asked
        DOCS_PLAN.replace("## Tests to write\n- none: documentation only\n", ""),  # no tests section: unsure
        DOCS_PLAN.replace("1. README.md", "1. ../outside.md"),  # outside the repository
        "## Goal\nRounding.\n## Tests to write\n- none",  # no changes section
        "Add a section to README.md.",  # no sections at all
    ],
)
def test_anything_short_of_a_clear_documentation_plan_keeps_the_full_pipeline(plan: str) -> None:
    assert narrow(plan) is None


def test_a_security_sensitive_request_narrows_but_keeps_its_audit() -> None:
    planned = narrow(
        DOCS_PLAN,
        Selection("feature", ("security-sensitive: token: no fast path, and the security audit always runs",)),
    )
    assert planned is not None and set(planned.skips) == {"test-master"}
    assert "keeps its security audit" in planned.reasons[0]


def test_runs_the_user_or_the_request_fixed_are_not_narrowed() -> None:
    assert narrow(DOCS_PLAN, Selection("feature", FEATURE.reasons, mode="full")) is None
    assert narrow(DOCS_PLAN, Selection("feature", FEATURE.reasons, by_class=False)) is None  # a purpose-built pipeline
    assert narrow(DOCS_PLAN, Selection("docs", ("the docs path",))) is None  # already narrow
    skipped = Selection("feature", FEATURE.reasons, skips={"security-auditor": "--skip on the command line"})
    planned = narrow(DOCS_PLAN, skipped)
    assert planned is not None and set(planned.skips) == {"test-master"}  # the user's skip keeps its reason


def test_whether_the_plan_asks_for_tests() -> None:
    assert not asks_for_tests(DOCS_PLAN)
    assert not asks_for_tests("## Changes\n1. README.md\n## **Tests to write:**\n- none")  # decorated, as models write
    assert asks_for_tests("## Changes\n1. README.md\n## Tests to write\nA test that the section renders.")
    assert not asks_for_tests("## Changes\n1. README.md\n## Tests to write\nNone.")


# ---------------------------------------------------------------- end to end, local engine
REQUEST = "Explain how rounding works"  # no docs place, no code word: the request alone takes the full pipeline
README = {**CALC_FILES, "README.md": "# calc\n\nA tiny calculator.\n"}
README_PLAN = (
    "## Goal\nExplain rounding.\n## Changes\n1. README.md — add a Rounding section\n"
    "## Tests to write\n- none: documentation only"
)
ROUNDING = append_to("README.md", "A tiny calculator.\n", "\n## Rounding\n\nResults are exact integers.\n")


def script(edit: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "web_search": True,
        "agents": {
            "researcher-local": [final(RESEARCH)],
            "researcher-web": [final(WEB_NOTES)],
            "planner": [final(README_PLAN)],
            "test-master": [tools(edit_mul_test(), text="Testing mul."), final(TESTS_WRITTEN)],
            "implementer": [tools(edit, text="Editing."), final(implemented("- Done.")), final(ADDRESSED)],
            "reviewer": [final(APPROVE)] * 3,
            "security-auditor": [final(AUDIT_APPROVE)] * 3,
            "doc-master": [final(NO_DOCS)] * 3,
        },
    }


def run(repo: Path, edit: dict[str, Any], request: str = REQUEST) -> tuple[RunResult, dict[str, Any]]:
    result = run_feature(request, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script(edit)))
    return result, json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))


def test_a_documentation_plan_skips_the_test_writer_and_the_audit(make_repo: Any) -> None:
    repo = make_repo(README)
    settle(repo)
    result, state = run(repo, ROUNDING)
    assert result.state.status == "done", result.state.error
    agents = state["agents"]
    assert state["change_type"]["before"] == "feature" and state["change_type"]["planned"] == "docs"
    assert agents["test-master"]["status"] == "skipped" and "after the plan" in agents["test-master"]["reason"]
    assert agents["security-auditor"]["status"] == "skipped"
    assert agents["implementer"]["status"] == "done" and agents["reviewer"]["status"] == "done"
    assert state["gate"]["status"] == "skipped"  # a docs plan and a docs diff: nothing to test, as for a docs request


def test_a_security_sensitive_request_with_a_documentation_plan_keeps_its_audit(make_repo: Any) -> None:
    repo = make_repo(README)
    settle(repo)
    result, state = run(repo, ROUNDING, "Explain how rounding treats untrusted input")
    assert result.state.status == "done", result.state.error
    agents = state["agents"]
    assert state["change_type"]["planned"] == "docs"
    assert agents["test-master"]["status"] == "skipped" and "after the plan" in agents["test-master"]["reason"]
    assert agents["security-auditor"]["status"] == "done"  # never skipped for a security-sensitive request
    assert any("keeps its security audit" in reason for reason in state["change_type"]["reasons"])


def test_a_security_request_whose_documentation_plan_was_a_lie_gets_its_tests_back(make_repo: Any) -> None:
    """A hostile planner calls a security-sensitive change documentation; the implementer changes code."""
    repo = make_repo(README)
    settle(repo)
    result, state = run(repo, edit_mul(), "Explain how rounding treats untrusted input")
    assert result.state.status == "done", result.state.error
    agents = state["agents"]
    assert state["change_type"]["planned"] == "docs" and state["change_type"]["after"] == "feature"
    assert agents["test-master"]["status"] == "done" and agents["security-auditor"]["status"] == "done"
    assert state["gate"]["status"] != "skipped"


def test_a_documentation_plan_whose_change_reaches_code_gets_everything_back(make_repo: Any) -> None:
    repo = make_repo(README)
    settle(repo)
    result, state = run(repo, edit_mul())  # the plan said README.md; the implementer changed calc/
    assert result.state.status == "done", result.state.error
    agents = state["agents"]
    assert state["change_type"]["planned"] == "docs" and state["change_type"]["after"] == "feature"
    assert agents["test-master"]["status"] == "done"  # brought back: tests written after the fact
    assert agents["security-auditor"]["status"] == "done"
    assert state["gate"]["status"] != "skipped"
    assert any("runs after all" in reason for reason in state["change_type"]["reasons"])


def test_plan_says_when_the_planner_may_narrow_the_run(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(README)
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["selection"]["after_plan"] == OUTLOOK
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    assert "after the planner: a plan that changes only documentation" in capsys.readouterr().out
    security = "Explain how API tokens are stored"
    assert main(["plan", security, "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["selection"]["after_plan"].endswith(
        "the security audit stays (a security-sensitive request)"
    )
    assert main(["plan", security, "--repo", str(repo), "--provider", "scripted", "--json", "--full"]) == 0
    assert json.loads(capsys.readouterr().out)["selection"]["after_plan"] is None


# ---------------------------------------------------------------- a plan edited at its approval
CODE_PLAN = (
    "## Goal\nAdd `mul`.\n## Changes\n1. calc/__init__.py — add `mul`\n## Tests to write\n- tests/test_calc.py — mul"
)


def run_approved(repo: Path, planner_plan: str, edited: str, edit: dict[str, Any]) -> dict[str, Any]:
    """A run with `--approve plan` whose user edits the plan to `edited` and approves it."""
    replies = script(edit)
    replies["agents"]["planner"] = [final(planner_plan)]
    plan = dataclasses.replace(
        prepare(REQUEST, repo, CliOverrides(provider="scripted"), web_search=True), approve=("plan",)
    )
    _, state = execute(plan, ScriptedProvider(replies), approver=lambda request: ApprovalAnswer(True, plan=edited))
    assert state.status == "done", state.error
    return json.loads((RunPaths.for_run(repo, state.run_id).state_file).read_text(encoding="utf-8"))


def test_a_plan_edited_to_change_code_gets_back_what_the_planners_plan_narrowed(make_repo: Any) -> None:
    repo = make_repo(README)
    settle(repo)
    state = run_approved(repo, README_PLAN, CODE_PLAN, edit_mul())
    assert state["change_type"]["planned"] is None
    assert state["agents"]["test-master"]["status"] == "done"  # back, and run before the gate
    assert state["agents"]["security-auditor"]["status"] == "done" and state["gate"]["status"] == "passed"


def test_a_plan_edited_down_to_documentation_narrows_the_run(make_repo: Any) -> None:
    repo = make_repo(README)
    settle(repo)
    state = run_approved(repo, CODE_PLAN, README_PLAN, ROUNDING)
    assert state["change_type"]["planned"] == "docs"
    assert state["agents"]["test-master"]["status"] == "skipped"
    assert state["agents"]["security-auditor"]["status"] == "skipped"
