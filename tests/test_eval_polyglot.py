"""The Aider polyglot layout as a suite: languages with a toolchain load, the others are listed as skipped;
`eval validate` passes on a Python + JavaScript folder; `--tries 2` gives the failing output back.

The folder is built by `eval_support.make_polyglot`; every run is the real pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_support import HIDDEN_MARKER, LEAP_JS_EXAMPLE, LEAP_JS_STUB, implementer_writes, make_polyglot, write

from autodev.apps.cli.main import main
from autodev.apps.eval.catalog import load_any_suite
from autodev.apps.eval.harness import run_eval
from autodev.apps.eval.models import PolicyProvider, Reply
from autodev.apps.eval.options import EvalOptions
from autodev.apps.eval.polyglot import languages
from autodev.apps.eval.polyglot.figures import headline
from autodev.config.settings import CliOverrides
from autodev.core.errors import UserError
from autodev.models import ModelRequest, TextPart
from autodev.run.selection.overrides import SelectionOverrides

PRICED = CliOverrides(
    provider="scripted", models=("fast=claude-haiku-5-5", "balanced=claude-sonnet-5-5", "deep=claude-opus-5-5")
)


@pytest.fixture
def no_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Go's toolchain hidden, wherever the tests run: its exercise must be listed as skipped."""
    real = languages.which
    monkeypatch.setattr(languages, "which", lambda tool: None if tool == "go" else real(tool))


def test_polyglot_layout_loads_per_language(tmp_path: Path, no_go: None, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = make_polyglot(tmp_path)
    suite = load_any_suite(str(bench))
    tasks = {task.name: task for task in suite.tasks}
    assert set(tasks) == {"python-two-fer", "javascript-leap"}
    assert suite.skipped == (("go", "go not on PATH"),)
    leap = tasks["javascript-leap"]
    assert set(leap.start) == {"leap.js", "package.json"} and set(leap.hidden) == {"leap.spec.js"}
    assert leap.test_command == ("node", "--test") and leap.append_test_files and leap.unskip
    assert leap.solution["leap.js"].name == "proof.ci.js" and "leap.js" in leap.request
    assert all(HIDDEN_MARKER not in task.request for task in suite.tasks)
    monkeypatch.setattr(languages, "which", lambda tool: None)
    with pytest.raises(UserError, match="no polyglot exercise can run here"):
        load_any_suite(str(bench))


def test_validate_polyglot_oracle_passes_null_fails(
    tmp_path: Path, no_go: None, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = make_polyglot(tmp_path)
    code = main(["eval", "validate", str(bench), "--jobs", "4", "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0 and report["ok"], report
    assert report["skipped_languages"] == [{"language": "go", "reason": "go not on PATH"}]
    assert "skipped go" in captured.err
    for row in report["tasks"]:
        assert row["oracle"]["passed"] and row["oracle"]["tests_passed"] == row["oracle"]["tests_total"] == 2, row
        assert not row["null"]["passed"], row


def told_the_failures(request: ModelRequest) -> Reply:
    """Wrong at first; the example solution once the request carries the failing tests' output."""
    text = request.context + "".join(p.text for m in request.messages for p in m.parts if isinstance(p, TextPart))
    retry = "acceptance tests failed" in text and "isLeap" in text  # node's report names the failing test
    return implementer_writes(write("leap.js", LEAP_JS_EXAMPLE if retry else LEAP_JS_STUB))(request)


def test_second_try_sees_the_test_output_and_headline_figures(tmp_path: Path, no_go: None) -> None:
    suite = load_any_suite(str(make_polyglot(tmp_path)))
    leap = [task for task in suite.tasks if task.language == "javascript"]
    opts = EvalOptions(cli=PRICED, tries=2, selection=SelectionOverrides(only=("implementer",)))
    outcome = run_eval(
        suite, leap, tmp_path / "out", opts, make_provider=lambda task: PolicyProvider(told_the_failures)
    )
    (result,) = outcome.results
    assert [t["passed"] for t in result["tries"]] == [False, True] and result["passed"]
    figures = headline(outcome.results).to_json()
    assert figures["pass_rate_1"] == 0.0 and figures["pass_rate_2"] == 1.0 and figures["well_formed"] == 1.0
    assert figures["cost_usd"] > 0 and figures["per_language"] == {
        "javascript": {"results": 1, "pass_rate_1": 0.0, "pass_rate_2": 1.0}
    }
