"""Smart agent selection end to end: real repositories, the scripted model, state.json and metrics.jsonl;
the `--full`, `--skip` and `--only` overrides and their refusal on the command line; `autodev plan`
showing the decision; and `autodev bench selection`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scripts import (
    ADDRESSED,
    APPROVE,
    AUDIT_APPROVE,
    CALC_FILES,
    FEATURE_AGENTS,
    MUL_IMPL,
    NO_DOCS,
    PLAN,
    REQUEST,
    RESEARCH,
    TESTS_WRITTEN,
    VALIDATION_AGENTS,
    append_to,
    call,
    edit_mul,
    edit_mul_test,
    feature_script,
    final,
    git,
    implemented,
    settle,
    tools,
    tree_snapshot,
)

from autodev.apps.cli.main import main
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.fakes.scripted import ScriptedModel, ScriptedProvider

TYPO_FILES = {**CALC_FILES, "README.md": "# calc\n\nA tiny calculater.\n"}
TYPO_REQUEST = "Fix the typo in README.md: calculater should be calculator"
DOCS_REQUEST = "Add a short usage section to README.md"
TYPO_SKIPS = {"researcher-local", "researcher-web", "test-master"}
DOCS_SKIPS = {"researcher-web", "test-master", "security-auditor"}
DEV_DATA = next(
    (
        found
        for parent in Path(__file__).resolve().parents[1:4]  # the checkout's parent, or a worktree's
        if (found := parent / "shared" / "data" / "commits-dev.jsonl").is_file()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "data" / "commits-dev.jsonl",
)

FIX_README = call("Edit", file_path="README.md", old_string="calculater", new_string="calculator")
USAGE = append_to("README.md", "A tiny calculater.\n", "\n## Usage\n\n    from calc import add\n")
DOCSTRING = call(
    "Edit",
    file_path="calc/__init__.py",
    old_string='"""A tiny calculator."""',
    new_string='"""A tiny calculator module."""',
)


def fast_script(edit: dict[str, Any]) -> dict[str, Any]:
    """Replies for the agents a fast path runs; the implementer makes `edit`."""
    return {
        "version": 1,
        "web_search": True,
        "agents": {
            "researcher-local": [final(RESEARCH)],
            "planner": [final(PLAN)],
            # runs only when the diff re-check brings it back (the change touched code): tests after the fact
            "test-master": [tools(edit_mul_test(), text="Testing mul."), final(TESTS_WRITTEN)],
            "implementer": [
                tools(edit, text="Editing."),
                final(implemented("- Done.")),
                final(ADDRESSED),
            ],
            "reviewer": [final(APPROVE)] * 3,
            "security-auditor": [final(AUDIT_APPROVE)] * 3,
            "doc-master": [final(NO_DOCS)] * 3,
        },
    }


def run(repo: Path, request: str, script: dict[str, Any]) -> RunResult:
    return run_feature(request, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))


def state_of(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "state.json").read_text(encoding="utf-8"))


def agent_records(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "agent"]


def timers(run_dir: Path) -> list[str]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r["name"] for r in map(json.loads, lines) if r["kind"] == "timer"]


@pytest.fixture
def typo_repo(make_repo: Any) -> Path:
    repo = make_repo(TYPO_FILES)
    settle(repo)
    return repo


def write_script(tmp_path: Path, script: dict[str, Any]) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def no_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: ScriptedModel, request: Any) -> Any:
        raise AssertionError(f"a model was called for {request.agent}")

    monkeypatch.setattr(ScriptedModel, "complete", refuse)


# ---------------------------------------------------------------- the fast path, confirmed and overruled
def test_a_typo_request_takes_the_typo_path(typo_repo: Path) -> None:
    result = run(typo_repo, TYPO_REQUEST, fast_script(FIX_README))
    state = state_of(result.run_dir)
    assert state["status"] == "done", state["error"]
    assert state["change_type"]["before"] == "typo"
    assert state["change_type"]["after"] == "typo"
    reasons = " ".join(state["change_type"]["reasons"])
    assert "README.md" in reasons and "diff: docs changed: README.md" in reasons

    skipped = {name for name, agent in state["agents"].items() if agent["status"] == "skipped"}
    assert skipped == TYPO_SKIPS
    for name in TYPO_SKIPS:
        assert "typo" in state["agents"][name]["reason"]
    records = {r["agent"]: r for r in agent_records(result.run_dir)}
    for name in TYPO_SKIPS:
        assert records[name]["status"] == "skipped"
        assert records[name]["skip_reason"] == state["agents"][name]["reason"]
    assert {n for n, a in state["agents"].items() if a["status"] == "done"} == set(FEATURE_AGENTS) - TYPO_SKIPS

    # the diff confirms only docs changed: no tests were run
    assert state["gate"]["status"] == "skipped"
    assert "only documentation changed" in state["gate"]["reason"]
    assert "test_gate" not in timers(result.run_dir)
    assert git(typo_repo, "show", f"{state['branch']}:README.md") == "# calc\n\nA tiny calculator.\n"


def test_a_typo_request_whose_implementer_edits_code_gets_the_gate_and_full_validation(typo_repo: Path) -> None:
    result = run(typo_repo, TYPO_REQUEST, fast_script(edit_mul()))
    state = state_of(result.run_dir)
    assert state["status"] == "done", state["error"]
    assert state["change_type"]["before"] == "typo"
    assert state["change_type"]["after"] == "feature"
    reasons = " ".join(state["change_type"]["reasons"])
    assert "diff: code changed: calc/__init__.py" in reasons
    assert "test-master runs after all" in reasons
    assert "researcher-local was skipped before the diff was known" in reasons and "not re-run" in reasons
    # the gate would have been skipped for a typo; the diff changed code, so it ran, after the test writer
    assert state["gate"]["status"] == "passed"
    assert "reason" not in state["gate"]
    assert "test_gate" in timers(result.run_dir)
    for name in ("test-master", "reviewer", "security-auditor", "doc-master"):
        assert state["agents"][name]["status"] == "done"
    assert {n for n, a in state["agents"].items() if a["status"] == "skipped"} == TYPO_SKIPS - {"test-master"}


def test_a_docs_request_whose_diff_changes_code_unskips_the_security_auditor(typo_repo: Path) -> None:
    result = run(typo_repo, DOCS_REQUEST, fast_script(call("Edit", **edit_mul()["input"])))
    state = state_of(result.run_dir)
    assert state["status"] == "done", state["error"]
    assert (state["change_type"]["before"], state["change_type"]["after"]) == ("docs", "feature")
    auditor = state["agents"]["security-auditor"]
    assert auditor["status"] == "done"
    assert any("security-auditor runs after all" in r for r in state["change_type"]["reasons"])
    statuses = [r["status"] for r in agent_records(result.run_dir) if r["agent"] == "security-auditor"]
    assert statuses == ["skipped", "done"]  # skipped at plan time, then run: both are on record
    assert state["gate"]["status"] == "passed"
    skipped = {n for n, a in state["agents"].items() if a["status"] == "skipped"}
    assert skipped == DOCS_SKIPS - {"security-auditor", "test-master"}


def test_a_docs_request_whose_implementer_changes_code_gets_tests_written_the_gate_and_validation(
    typo_repo: Path,
) -> None:
    """Safe by construction (issue 22): a fast path never ends without tests for a code change. The test
    writer the docs path skipped is brought back after the implementer, before the gate, and the gate
    runs the test it wrote; then the validation agents run. Before: test-master stayed skipped."""
    result = run(typo_repo, DOCS_REQUEST, fast_script(edit_mul()))
    state = state_of(result.run_dir)
    assert state["status"] == "done", state["error"]
    assert (state["change_type"]["before"], state["change_type"]["after"]) == ("docs", "feature")
    assert state["agents"]["test-master"]["status"] == "done"
    statuses = [r["status"] for r in agent_records(result.run_dir) if r["agent"] == "test-master"]
    assert statuses == ["skipped", "done"]
    order = [r["agent"] for r in agent_records(result.run_dir) if r["status"] == "done"]
    assert order.index("implementer") < order.index("test-master") < order.index("reviewer")
    assert state["gate"]["status"] == "passed"
    assert state["gate"]["tests"]["total"] == 2  # the existing test and the one test-master wrote after the fact
    assert "MulTests" in git(typo_repo, "show", f"{state['branch']}:tests/test_calc.py")
    for name in VALIDATION_AGENTS:
        assert state["agents"][name]["status"] == "done"


@pytest.mark.parametrize("edit", [USAGE, DOCSTRING], ids=["readme", "docstring-only"])
def test_a_docs_request_whose_diff_is_docs_keeps_its_skips(typo_repo: Path, edit: dict[str, Any]) -> None:
    result = run(typo_repo, DOCS_REQUEST, fast_script(edit))
    state = state_of(result.run_dir)
    assert state["status"] == "done", state["error"]
    assert state["change_type"]["before"] == "docs"
    assert state["change_type"]["after"] in ("docs", "typo")
    assert {n for n, a in state["agents"].items() if a["status"] == "skipped"} == DOCS_SKIPS
    assert state["gate"]["status"] == "skipped"
    assert all(r["status"] == "skipped" for r in agent_records(result.run_dir) if r["agent"] == "security-auditor")


# ---------------------------------------------------------------- overrides on the command line
def _run_argv(repo: Path, script: Path, request: str, *extra: str) -> list[str]:
    return ["run", request, "--repo", str(repo), "--provider", "scripted", "--script", str(script), "--json", *extra]


def test_run_full_runs_every_agent_on_a_typo_request(
    typo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = write_script(tmp_path, feature_script())
    assert main(_run_argv(typo_repo, script, TYPO_REQUEST, "--full")) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["change_type"]["before"] == "typo"
    assert "--full" in " ".join(state["change_type"]["reasons"])
    assert all(agent["status"] == "done" for agent in state["agents"].values())
    assert state["gate"]["status"] == "passed"


def test_run_skip_records_the_skip(typo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = write_script(tmp_path, feature_script())
    assert main(_run_argv(typo_repo, script, REQUEST, "--skip", "doc-master", "--skip", "researcher-web")) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["change_type"]["before"] == "feature"
    skipped = {n: a["reason"] for n, a in state["agents"].items() if a["status"] == "skipped"}
    assert skipped == {"doc-master": "--skip on the command line", "researcher-web": "--skip on the command line"}
    records = agent_records(Path(state["repo"]) / ".autodev" / "runs" / state["run_id"])
    assert {r["agent"]: r["skip_reason"] for r in records if r["status"] == "skipped"} == skipped


def test_run_only_runs_the_listed_agents(typo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replies = {"implementer": [tools(edit_mul()), final(implemented("- Done."))]}
    script = write_script(tmp_path, {"version": 1, "web_search": True, "agents": replies})
    assert main(_run_argv(typo_repo, script, REQUEST, "--only", "implementer")) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["status"] == "done", state["error"]
    assert state["agents"]["implementer"]["status"] == "done"
    others = {n: a for n, a in state["agents"].items() if n != "implementer"}
    assert all(a["status"] == "skipped" and a["reason"].startswith("not in --only") for a in others.values())
    assert state["gate"]["status"] == "passed"
    assert MUL_IMPL.strip() in git(typo_repo, "show", f"{state['branch']}:calc/__init__.py")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("--only", "reviewer"), ["refusing to skip implementer", "reviewer works on the change"]),
        (("--skip", "implementer"), ["refusing to skip implementer", "reviewer"]),
        (("--only", "planner,reviewer"), ["refusing to skip implementer"]),
        (("--full", "--skip", "reviewer"), ["--full"]),
        (("--skip", "reviewer", "--only", "implementer"), ["either --skip or --only"]),
        (("--skip", "nobody"), ["no agent named nobody"]),
    ],
)
@pytest.mark.parametrize("command", ["run", "plan"])
def test_refused_selections_exit_2_and_write_nothing(
    typo_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    extra: tuple[str, ...],
    fragments: list[str],
) -> None:
    no_model_calls(monkeypatch)
    script = write_script(tmp_path, feature_script())
    before = tree_snapshot(typo_repo)
    argv = _run_argv(typo_repo, script, REQUEST, *extra)
    argv[0] = command
    assert main(argv) == 2
    message = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message
    assert tree_snapshot(typo_repo) == before
    assert not (typo_repo / ".autodev" / "runs").exists()


# ---------------------------------------------------------------- autodev plan shows the decision
def test_plan_shows_the_deps_class_and_its_policy(
    typo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A packaging request is its own class (issue 22): the test writer may be skipped, never the
    security audit or the test gate."""
    no_model_calls(monkeypatch)
    script = write_script(tmp_path, feature_script())
    request = "Bump the minimum version of typing-extensions in requirements.txt"
    argv = ["plan", request, "--repo", str(typo_repo), "--provider", "scripted", "--script", str(script)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "change type: deps" in out
    assert f"{'test-master':<17} skipped: not needed for a deps change (selection.skips.deps)" in out
    assert "security-auditor  skipped" not in out
    assert "skipped if the diff confirms" not in out  # the gate always runs for deps
    assert main([*argv, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["change_type"] == "deps"
    assert set(shown["selection"]["skips"]) == {"researcher-local", "test-master"}


def test_plan_shows_the_skips_and_the_reasons(
    typo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_model_calls(monkeypatch)
    script = write_script(tmp_path, feature_script())
    before = tree_snapshot(typo_repo)
    base = ["plan", TYPO_REQUEST, "--repo", str(typo_repo), "--provider", "scripted", "--script", str(script)]

    assert main(base) == 0
    out = capsys.readouterr().out
    assert "change type: typo" in out
    assert "because names docs: README.md (docs, exists)" in out
    for name in TYPO_SKIPS:
        assert f"{name:<17} skipped: not needed for a typo change (selection.skips.typo)" in out
    assert "skipped if the diff confirms that only documentation changed" in out

    assert main([*base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["change_type"] == "typo"
    assert set(data["selection"]["skips"]) == TYPO_SKIPS
    assert data["selection"]["mode"] == "auto"
    entries = {e["agent"]: e for stage in data["stages"] for e in stage}
    assert {n for n, e in entries.items() if not e["runs"]} == TYPO_SKIPS
    assert data["test_gate"]["may_skip"]

    assert main([*base, "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["selection"] == {"mode": "full", "skips": {}, "after_plan": None}  # --full: the plan narrows nothing
    assert full["test_gate"]["may_skip"] is None

    assert main([*base, "--json", "--only", "planner,implementer"]) == 0
    only = json.loads(capsys.readouterr().out)
    assert set(only["selection"]["skips"]) == set(FEATURE_AGENTS) - {"planner", "implementer"}

    assert tree_snapshot(typo_repo) == before


def test_plan_takes_the_policy_from_config(
    make_repo: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_model_calls(monkeypatch)
    config = CALC_FILES[".autodev/config.toml"] + '[selection.skips]\ntypo = ["researcher-web"]\n'
    repo = make_repo({**TYPO_FILES, ".autodev/config.toml": config})
    assert main(["plan", TYPO_REQUEST, "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["change_type"] == "typo"
    assert list(data["selection"]["skips"]) == ["researcher-web"]


# ---------------------------------------------------------------- autodev bench selection
FIXTURE = [
    {"sha": "a1", "message": "Fix the typo in README.md", "files": [{"path": "README.md", "added": 1, "deleted": 1}]},
    {"sha": "a2", "message": "Fix typo in README.md", "files": [{"path": "src/pkg/core.py", "added": 1, "deleted": 1}]},
    {
        "sha": "a3",
        "message": "Add a mul(a, b) function",
        "files": [{"path": "src/pkg/core.py", "added": 3, "deleted": 0}],
    },
    {"sha": "a4", "message": "Bump tox in CI", "files": [{"path": "tox.ini", "added": 1, "deleted": 1}]},
    {"sha": "a5", "message": "ouch", "files": [{"path": "docs/index.md", "added": 9, "deleted": 2}]},
    {"sha": "a6", "message": "Update the changelog", "files": [{"path": "CHANGELOG.md", "added": 5, "deleted": 0}]},
]
LABELLED = [
    # the truth is code_changed when a record has it: a docstring-only edit of a .py file changed no code
    {**FIXTURE[1], "sha": "b1", "code_changed": False},
    {**FIXTURE[0], "sha": "b2", "code_changed": False},
    {"sha": "b3", "message": "Pin attrs in requirements.txt", "code_changed": False,
     "files": [{"path": "requirements.txt", "added": 1, "deleted": 1}]},
    {"sha": "b4", "message": "Update docs/conf.py for the new theme", "code_changed": True,
     "files": [{"path": "docs/conf.py", "added": 2, "deleted": 1}]},
]  # fmt: skip


def test_bench_selection_on_a_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "commits.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in FIXTURE) + "\nnot json\n", encoding="utf-8")
    predictions = tmp_path / "out" / "predictions.jsonl"
    assert main(["bench", "selection", str(data), "--predictions", str(predictions), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["records"] == 6
    assert result["skipped_lines"] == 1
    confusion = result["confusion"]
    assert confusion["typo"] == {"docs": 0, "typo": 1, "config": 0, "deps": 0, "feature": 1}
    assert confusion["feature"] == {"docs": 1, "typo": 0, "config": 0, "deps": 0, "feature": 1}
    assert confusion["config"]["config"] == 1 and confusion["docs"]["docs"] == 1
    assert result["unsafe"] == 1
    assert result["unsafe_rate"] == pytest.approx(1 / 6)
    assert result["unsafe_rate_of_fast_paths"] == pytest.approx(1 / 4)
    assert result["no_code_commits"] == 4
    assert result["fast_path_share"] == pytest.approx(3 / 4)
    assert result["no_code_fast_by_files_share"] == 1.0  # without labels, no-code means prose or config files
    assert not result["within_target"]
    assert result["truth"] == "code_changed on 0 records, else the diff class"
    assert result["per_class"]["typo"] == {"requests": 2, "commits": 1, "precision": 0.5, "recall": 1.0}
    # the typo request that changed code gets the test writer back, and the gate: no unsafe outcome
    assert result["outcome"]["unsafe"] == 0 and result["outcome"]["test_writer_brought_back"] == 1

    rows = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert [row["sha"] for row in rows] == [r["sha"] for r in FIXTURE]
    assert set(rows[0]) == {"sha", "request_class", "diff_class", "reasons"}
    assert (rows[1]["request_class"], rows[1]["diff_class"]) == ("typo", "feature")
    assert any(reason.startswith("request: ") for reason in rows[1]["reasons"])
    assert any(reason.startswith("diff: code changed") for reason in rows[1]["reasons"])

    assert main(["bench", "selection", str(data)]) == 0
    out = capsys.readouterr().out
    assert "request \\ diff" in out and "recall): NOT MET" in out
    assert "unsafe fast paths (request level): 25.0% of the 4 requests sent down a fast path changed code" in out
    assert "unconditional: 16.7% of all 6 commits" in out
    assert "unsafe outcomes (runs that would finish without tests or audit" in out and "): 0 = 0.0%" in out


def test_bench_selection_reads_the_truth_and_shows_the_outcome_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in LABELLED) + "\n", encoding="utf-8")
    assert main(["bench", "selection", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["truth"] == "code_changed"
    assert result["fast_path_requests"] == 3  # typo, typo, deps; naming docs/conf.py (code) makes b4 a feature
    assert result["unsafe"] == 0 and result["fast_path_share"] == 1.0
    assert result["confusion"]["deps"]["deps"] == 1
    assert result["outcome"] == {
        "unsafe": 0,
        "unsafe_rate": 0.0,
        "code_changed": 1,
        "packaging_changed": 1,
        "test_writer_brought_back": 1,
        "auditor_brought_back": 0,
    }


def test_bench_selection_bad_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "selection", str(tmp_path / "missing.jsonl")]) == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"sha": 1}\n', encoding="utf-8")
    assert main(["bench", "selection", str(empty)]) == 2
    assert "no usable records" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "selection", "{file}"],
        ["bench", "selection-baseline", "{file}"],
        ["bench", "selection-plan", "{file}", "--oracle"],
        ["bench", "context", "--commits", "{file}", "--repo", "{repo}"],
    ],
    ids=["selection", "baseline", "plan", "context"],
)
def test_a_file_that_is_not_text_is_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, make_repo: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary file passed by mistake (an executable, a gzip of the data): no traceback."""
    binary = tmp_path / "commits.jsonl.gz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\xd0\xff\xfe" * 40 + b"\n")
    repo = make_repo()
    assert main([arg.format(file=binary, repo=repo) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and str(binary) in captured.err


@pytest.mark.skipif(not DEV_DATA.is_file(), reason="the shared dev data is not next to this checkout")
def test_bench_selection_smoke_on_the_dev_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "selection", str(DEV_DATA), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["records"] == 2278
    assert sum(sum(row.values()) for row in result["confusion"].values()) == 2278
    assert 0 < result["fast_path_share"] < 1
    # safe by construction: whatever the request classifier said, no run ends untested or unaudited
    assert result["outcome"]["unsafe"] == 0
    assert all(figures["outcome_unsafe"] == 0 for figures in result["per_repo"].values())
