"""`autodev eval`: suites, grading on hidden tests, the oracle and null models, saboteurs, resume, reports.

Every run here is the real pipeline (worktree, tools, test gate, state, metrics) driven by models that
need no provider: the oracle writes the reference solution, the null model changes nothing, and the
saboteurs try to fool or break the harness.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_support import (
    CALC,
    CALC_REQUEST,
    HIDDEN_MARKER,
    MUL,
    CountingFactory,
    make_calc_task,
    make_exercism_track,
    make_saboteur_suite,
    right_on_second_try,
    saboteur_factory,
    write_tree,
)

from autodev.apps.cli.main import main
from autodev.apps.eval.grading import grade
from autodev.apps.eval.harness import run_eval
from autodev.apps.eval.models import PolicyProvider
from autodev.apps.eval.options import EvalOptions
from autodev.apps.eval.results import compare, summarize, wilson, write_result
from autodev.apps.eval.tasks import FAST_PATH_CATEGORIES, Task, load_suite, select_tasks
from autodev.apps.eval.workspace import dump_toml, merged_config
from autodev.config.settings import CliOverrides
from autodev.core.errors import UserError
from autodev.run.selection.overrides import SelectionOverrides

PRICED = CliOverrides(
    provider="scripted", models=("fast=claude-haiku-5-5", "balanced=claude-sonnet-5-5", "deep=claude-opus-5-5")
)
IMPLEMENTER_ONLY = SelectionOverrides(only=("implementer",))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------- the built-in suite
def test_builtin_suite_covers_the_kinds_of_request() -> None:
    suite = load_suite("builtin")
    assert 10 <= len(suite.tasks) <= 15
    categories = {task.category for task in suite.tasks}
    assert {"feature", "bugfix", "refactor", "docs", "typo", "config"} <= categories
    for task in suite.tasks:
        assert task.solution, task.name
        assert len(task.start) >= 4, f"{task.name} is not a multi-file project"
        for rel, path in task.hidden.items():  # a hidden test may replace a visible one, never equal it
            assert rel not in task.start or task.start[rel].read_bytes() != path.read_bytes(), (task.name, rel)
    smoke = load_suite("builtin-smoke")
    assert [task.category for task in smoke.tasks] == ["docs", "feature", "bugfix"]


def test_validate_builtin_oracle_passes_and_null_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = run_cli(capsys, "eval", "validate", "builtin", "--jobs", "4", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["ok"] and report["flagged"] == []
    rows = {row["task"]: row for row in report["tasks"]}
    assert len(rows) == len(load_suite("builtin").tasks)
    for name, row in rows.items():
        oracle, null = row["oracle"], row["null"]
        assert oracle["passed"] and oracle["tests_passed"] == oracle["tests_total"] > 0, (name, oracle)
        assert not null["passed"] and null["tests_passed"] < (null["tests_total"] or 1), (name, null)
        # the null model changes nothing: its run fails saying so (issue 20 item 6), and the task is still graded
        assert oracle["run_status"] == "done" and null["run_status"] == "failed", (name, oracle, null)
        if row["category"] in FAST_PATH_CATEGORIES:  # the pipeline's classifier takes the fast path
            assert oracle["change_type"] == row["category"], (name, oracle)


# ---------------------------------------------------------------- the Exercism layout
def test_exercism_layout_workspace_request_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    track = make_exercism_track(tmp_path)
    suite = load_suite(str(track))
    tasks = {task.name: task for task in suite.tasks}
    assert set(tasks) == {"hello-world", "two-fer"}
    two_fer = tasks["two-fer"]
    assert set(two_fer.start) == {"two_fer.py", "greeting_data.py"}  # helper kept; tests, docs, meta left out
    assert set(two_fer.hidden) == set(two_fer.test_files) == {"two_fer_test.py"}
    assert set(two_fer.solution) == {"two_fer.py"} and two_fer.solution["two_fer.py"].name == "example.py"
    for words in ("Two-fer is short", "# Instructions", "Use a default argument", "two_fer.py"):
        assert words in two_fer.request
    assert load_suite(str(track / "exercises" / "practice" / "two-fer")).tasks[0].name == "two-fer"

    code, stdout, _ = run_cli(capsys, "eval", "validate", str(track), "--jobs", "4", "--json")
    rows = {row["task"]: row for row in json.loads(stdout)["tasks"]}
    assert code == 1  # a task is flagged
    assert rows["two-fer"]["flags"] == [] and rows["two-fer"]["oracle"]["tests_passed"] == 2
    assert rows["hello-world"]["flags"] == ["null passes"]


# ---------------------------------------------------------------- saboteurs
def test_saboteurs_are_scored_correctly_and_break_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-not-a-real-key")  # must not reach the hidden tests
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_notarealtoken")
    suite_dir = make_saboteur_suite(tmp_path)
    suite = load_suite(str(suite_dir))
    out = tmp_path / "out"
    opts = EvalOptions(cli=PRICED, selection=IMPLEMENTER_ONLY, jobs=4)
    outcome = run_eval(suite, suite.tasks, out, opts, make_provider=saboteur_factory(suite_dir))
    results = {r["task"]: r for r in outcome.results}
    assert set(results) == {task.name for task in suite.tasks}

    honest = results["honest"]
    assert honest["passed"] and honest["tests_passed"] == honest["tests_total"] == 3
    assert honest["cost_usd"] is not None and honest["cost_usd"] > 0
    assert honest["agents"]["implementer"]["model"] == "claude-sonnet-5-5"

    syntax = results["syntax-error"]
    assert not syntax["passed"] and syntax["status"] == "failed" and syntax["tests_passed"] == 0
    # Write refuses a .py file that does not compile (issue 20), so the broken code never lands, and a run whose
    # implementer changed no file fails with that reason instead of ending done (issue 20 item 6)
    assert syntax["run_status"] == "failed"
    sessions = (out / "syntax-error").rglob("implementer.md")
    assert any("unparsable" in path.read_text(encoding="utf-8") for path in sessions)

    edits = results["edits-tests"]
    assert not edits["passed"] and edits["tests_total"] == 3  # the hidden tests ran, not the agent's
    assert edits["grade"]["reverted"] == ["conftest.py"]

    reads = results["reads-hidden"]
    assert not reads["passed"]
    diff = (out / "reads-hidden" / "1.diff").read_text()
    assert "leak.txt" in diff and "calc/__init__.py" in diff
    sessions = "".join(p.read_text() for p in (out / "reads-hidden" / "1.runs").rglob("sessions/*.md"))
    assert "outside" in sessions.lower() or "not allowed" in sessions.lower()
    assert HIDDEN_MARKER not in diff + sessions

    for name in ("sleeps", "loops-code"):  # killed at the 2 s timeout, not after the 600 s sleep or never
        timed = results[name]
        assert not timed["passed"] and timed["timed_out"] and timed["grade"]["duration_s"] < 60, timed

    loops = results["loops-model"]
    assert not loops["passed"] and loops["run_status"] == "failed" and "max_turns" in loops["error"]

    refused = results["provider-error"]
    assert not refused["passed"] and refused["status"] == "failed" and "x-api-key" in refused["error"]

    crashed = results["provider-crash"]
    assert not crashed["passed"] and crashed["status"] == "error" and "RuntimeError" in crashed["error"]

    unpriced = results["unpriced"]
    assert unpriced["passed"] and unpriced["cost_usd"] is None

    summary = summarize(outcome.results)
    assert (summary.solved, summary.results, summary.errors) == (2, 10, 1)
    assert summary.priced == 9 and summary.cost_per_solved is None and summary.cost_per_task is not None
    for name in results:  # every result is on disk, whole
        assert json.loads((out / name / "1.json").read_text())["task"] == name


def test_second_try_gets_the_failing_output(tmp_path: Path) -> None:
    make_calc_task(tmp_path / "suite", "calc")
    suite = load_suite(str(tmp_path / "suite"))
    opts = EvalOptions(cli=PRICED, selection=IMPLEMENTER_ONLY, tries=2)
    outcome = run_eval(suite, suite.tasks, tmp_path / "out", opts, lambda task: PolicyProvider(right_on_second_try))
    (result,) = outcome.results
    assert result["passed"] and [t["passed"] for t in result["tries"]] == [False, True]
    assert result["agents"]["implementer"]["runs"] == 2
    assert summarize(outcome.results).solved_first_try == 0
    assert len(list((tmp_path / "out" / "calc" / "1.runs").iterdir())) == 2


# ---------------------------------------------------------------- resume
def test_interrupted_eval_resumes_where_it_stopped(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        make_calc_task(tmp_path / "suite", name)
    suite = load_suite(str(tmp_path / "suite"))
    out = tmp_path / "out"
    opts = EvalOptions(cli=PRICED, selection=IMPLEMENTER_ONLY)

    with pytest.raises(BaseException) as stopped:
        run_eval(suite, suite.tasks, out, opts, CountingFactory(interrupt="b"))
    assert type(stopped.value).__name__ in ("KeyboardInterrupt", "RunInterrupted")
    first = (out / "a" / "1.json").read_bytes()
    assert not (out / "b" / "1.json").exists() and not (out / "c" / "1.json").exists()
    (out / "c").mkdir()
    (out / "c" / "1.json").write_text('{"schema": 1, "task": "c"', encoding="utf-8")  # torn by another tool

    again = CountingFactory()
    outcome = run_eval(suite, suite.tasks, out, opts, again)
    assert again.made == {"b": 1, "c": 1} and outcome.resumed == 1
    assert (out / "a" / "1.json").read_bytes() == first
    assert [r["passed"] for r in outcome.results] == [True, True, True]
    with pytest.raises(UserError, match="another eval configuration"):
        run_eval(suite, suite.tasks, out, EvalOptions(cli=PRICED, tries=2), CountingFactory())


# ---------------------------------------------------------------- the command line
SCRIPT = {
    "version": 1,
    "agents": {
        "researcher-local": [{"text": "## Relevant code\n- calc/__init__.py has add."}],
        "planner": [{"text": "## Goal\nmul\n## Changes\n1. Add mul.\n## Tests to write\n- none"}],
        "test-master": [{"text": "## Tests\nNone added.\n## Test run\n- not run"}],
        "implementer": [
            {
                "tool_calls": [
                    {"name": "Read", "input": {"file_path": "calc/__init__.py"}},
                    {"name": "Write", "input": {"file_path": "calc/__init__.py", "content": MUL}},
                ]
            },
            {"text": "## Changes\n- Added mul.\n## Tests\n- passed\n## Docs impact\n- none"},
        ],
        "reviewer": [{"text": "Checked: calc\nVERDICT: APPROVE"}],
        "security-auditor": [{"text": "Audited: calc\nVERDICT: APPROVE"}],
        "doc-master": [{"text": "## Docs updated\n- none"}],
    },
}


def test_cli_runs_a_suite_writes_results_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_calc_task(tmp_path / "suite", "calc")
    make_calc_task(tmp_path / "suite", "other")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    config = tmp_path / "eval.toml"
    config.write_text('max_test_retries = 0\n[tiers]\nbalanced = "claude-sonnet-5-5"\n', encoding="utf-8")
    out = tmp_path / "out"
    argv = ["eval", str(tmp_path / "suite"), "--tasks", "ca*", "--provider", "scripted", "--script", str(script)]
    argv += ["--config", str(config), "--out", str(out)]

    code, stdout, stderr = run_cli(capsys, *argv, "--json")
    assert code == 0, stderr
    data = json.loads(stdout)
    (result,) = data["tasks"]
    assert result["passed"] and result["tests_passed"] == 3 and result["run_status"] == "done"
    assert result["agents"]["implementer"]["model"] == "claude-sonnet-5-5"  # --config reached the run
    assert result["agents"]["researcher-web"]["status"] == "skipped"
    assert data["summary"]["solved"] == 1 and data["summary"]["solved_rate_95ci"][1] == 1.0
    assert {p.name for p in (out / "calc").iterdir()} == {"1.json", "1.diff", "1.runs"}
    assert (out / "eval.json").is_file() and not (out / "other").exists()

    code, stdout, stderr = run_cli(capsys, *argv)  # resumed: nothing left to run
    assert code == 0 and "1 result(s) were already in" in stderr
    assert "solved  1/1 = 100.0%" in stdout and "implementer" in stdout

    code, stdout, _ = run_cli(capsys, "eval", "report", str(out))
    assert code == 0 and "calc" in stdout and "solved" in stdout


def result(task: str, passed: bool, trial: int = 1, cost: float | None = 0.01, wall: float = 2.0) -> dict[str, Any]:
    tokens = {"input": 100, "output": 10, "cache_read": 5, "cache_write": 0}
    return {
        "schema": 1, "task": task, "trial": trial, "passed": passed, "status": "passed" if passed else "failed",
        "tests_passed": 3 if passed else 1, "tests_total": 3, "wall_s": wall, "tokens": tokens, "cost_usd": cost,
        "tries": [{"passed": passed}], "agents": {"implementer": {"runs": 1, "duration_s": 1.0, "input_tokens": 100,
        "output_tokens": 10, "cost_usd": cost}},
    }  # fmt: skip


def test_report_compares_two_result_sets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for row in (result("one", True), result("two", False), result("three", True), result("gone", True)):
        write_result(a, row)
    for row in (result("one", True), result("two", True), result("three", False), result("new", False)):
        write_result(b, row)
    code, stdout, _ = run_cli(capsys, "eval", "report", str(a), str(b), "--json")
    data = json.loads(stdout)
    assert code == 0
    assert data["fixed"] == ["two"] and data["broken"] == ["three"]
    assert data["only_in_a"] == ["gone"] and data["only_in_b"] == ["new"] and data["common_tasks"] == 3
    assert data["a"]["solved"] == 3 and data["b"]["solved"] == 2
    code, stdout, _ = run_cli(capsys, "eval", "report", str(a), str(b))
    assert "fixed  two" in stdout and "broken three" in stdout and "only in A: gone" in stdout


def test_summary_statistics() -> None:
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    rows = [result("a", True, wall=1.0), result("b", False, wall=3.0, cost=None), result("c", True, wall=2.0)]
    summary = summarize(rows)
    assert (summary.solved, summary.results, summary.median_s) == (2, 3, 2.0)
    assert summary.cost_usd == pytest.approx(0.02) and summary.priced == 2 and summary.cost_per_solved is None
    assert summary.tokens == {"input": 300, "output": 30, "cache_read": 15, "cache_write": 0}
    assert summary.agents["implementer"].runs == 3 and summary.agents["implementer"].cost_usd is None
    trials = [result("x", True, 1), result("x", False, 2), result("y", False, 1), result("y", False, 2)]
    assert compare(trials, [result("x", False), result("y", True)])["fixed"] == ["y"]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"task.toml": 'request = "x"\ncolour = "blue"\n'}, "colour"),
        ({"task.toml": "request = \n"}, "not valid TOML"),
        (
            {"task.toml": 'request = "x"\ntest_command = "make test"\n', "repo/a.py": "", "tests/test_x.py": ""},
            "not a pytest or unittest command",
        ),
        (
            {
                "task.toml": 'request = "x"\ntest_command = "pytest \\"unclosed"\n',
                "repo/a.py": "",
                "tests/test_x.py": "",
            },
            "test_command: No closing quotation",
        ),
        ({"task.toml": 'request = "x"\n', "tests/test_x.py": ""}, "repo/"),
        ({"task.toml": 'request = "x"\n', "repo/a.py": ""}, "tests/"),
        ({"task.toml": 'request = "x"\n', "repo/a.py": "", "tests/helper.py": ""}, "no hidden test files"),
        ({"task.toml": 'request = "  "\n', "repo/a.py": "", "tests/test_x.py": ""}, "blank"),
    ],
)
def test_malformed_task_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], message: str
) -> None:
    write_tree(tmp_path / "suite" / "broken", files)
    code, _, stderr = run_cli(capsys, "eval", "validate", str(tmp_path / "suite"))
    assert code == 2 and message in stderr


def test_other_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_calc_task(tmp_path / "suite", "calc")
    suite = str(tmp_path / "suite")
    for argv, message in [
        (["eval", str(tmp_path / "missing")], "does not exist"),
        (["eval", str(tmp_path / "suite" / "calc" / "repo")], "no tasks in"),
        (["eval", suite, "--tasks", "zzz*", "--provider", "scripted"], "no task in"),
        (["eval", suite], "needs a model provider"),
        (["eval", "validate", suite, "--tasks", "nope"], "no task in"),
        (["eval", suite, "--tries", "3"], "--tries"),
        (["eval", "report", str(tmp_path / "suite")], "no eval results"),
    ]:
        code, _, stderr = run_cli(capsys, *argv)
        assert code == 2 and message in stderr, (argv, stderr)
    assert not (tmp_path / "autodev-eval").exists()


# ---------------------------------------------------------------- parts
def test_grading_needs_a_test_to_run(tmp_path: Path) -> None:
    task = Task(
        name="empty",
        format="native",
        source=tmp_path,
        request=CALC_REQUEST,
        start={"calc/__init__.py": _file(tmp_path / "calc.py", CALC)},
        hidden={"test_nothing.py": _file(tmp_path / "test_nothing.py", "import calc\n")},
        test_files=("test_nothing.py",),
        solution={},
        test_command=("python", "-m", "unittest"),
    )
    graded = grade(task, b"", tmp_path / "grade")
    assert not graded.passed and graded.tests_total == 0 and graded.note == "no hidden test ran"


def _file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_task_config_merges_into_the_run_settings(tmp_path: Path) -> None:
    task_dir = make_calc_task(tmp_path / "suite", "calc", timeout_s=7)
    (task_dir / "repo" / ".autodev" / "config.toml").unlink()
    write_tree(
        task_dir / "repo", {"pyproject.toml": '[tool.autodev]\nmax_parallel = 2\n[tool.autodev.tiers]\nfast = "a"\n'}
    )
    (task,) = load_suite(str(tmp_path / "suite")).tasks
    user = {"tiers": {"deep": "b"}, "prices": {"my model": {"input": 1.5}}, "bash_allow": ["ls"], "otel": False}
    config = merged_config(task, task_dir / "repo", user)
    assert config == {
        "test_timeout_s": 7.0,
        "max_parallel": 2,
        "tiers": {"fast": "a", "deep": "b"},
        "prices": {"my model": {"input": 1.5}},
        "bash_allow": ["ls"],
        "otel": False,
    }
    import tomllib

    assert tomllib.loads(dump_toml(config)) == config
    assert [t.name for t in select_tasks(load_suite(str(tmp_path / "suite")), ["c*,x"])] == ["calc"]
