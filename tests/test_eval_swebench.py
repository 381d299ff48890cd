"""`autodev eval swebench`: predictions in the official format, resumable, hidden tests kept hidden,
and `eval validate` on a SWE-bench dataset (the gold patch resolves each instance locally, no change does not).

The dataset and its repository are built by `eval_support.make_swebench_fixture`; every run is the real
pipeline driven by the oracle (the gold patch's files) or the null model.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from eval_support import HIDDEN_MARKER, TEST_MARKER, make_swebench_fixture

from autodev.apps.cli.main import main
from autodev.apps.eval.models import PolicyProvider, Reply, oracle_responder
from autodev.apps.eval.options import EvalOptions
from autodev.apps.eval.swebench.dataset import Instance, load_instances, select_instances
from autodev.apps.eval.swebench.gold import gold_files
from autodev.apps.eval.swebench.local_grade import named_tests_command
from autodev.apps.eval.swebench.predictions import KEYS, done_ids, drop_broken_lines, meta_path, validate_predictions
from autodev.apps.eval.swebench.runner import SwebenchOptions, run_swebench, runs_dir
from autodev.config.settings import CliOverrides
from autodev.core.errors import UserError
from autodev.models import ModelRequest
from autodev.run.gate.environment import TestEnvironment

PRICED = CliOverrides(
    provider="scripted", models=("fast=claude-haiku-5-5", "balanced=claude-sonnet-5-5", "deep=claude-opus-5-5")
)


class Recording:
    """The oracle (the gold patch's files); every request's whole text is kept."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.made: list[str] = []

    def __call__(self, instance: Instance, repo: Path) -> PolicyProvider:
        self.made.append(instance.instance_id)
        respond = oracle_responder(gold_files(repo, instance.patch))

        def recorded(request: ModelRequest) -> Reply:
            self.seen.append(request.system + request.context + repr(request.messages) + repr(request.tools))
            return respond(request)

        return PolicyProvider(recorded)


def test_predictions_official_format_resume_and_hidden_tests(tmp_path: Path) -> None:
    dataset, repos = make_swebench_fixture(tmp_path)
    instances = load_instances(dataset)
    assert [len(i.fail_to_pass) for i in instances] == [1, 1]  # a JSON-encoded list and a plain one
    predictions = tmp_path / "out" / "preds.jsonl"
    opts = SwebenchOptions(predictions, "autodev/test", repos, eval=EvalOptions(cli=PRICED))
    factory = Recording()

    chosen = select_instances(instances, "acme__calc-1", None)
    first = run_swebench(chosen, opts, factory)
    assert [m["instance_id"] for m in first.done] == ["acme__calc-1"] and first.skipped == []
    again = run_swebench(chosen, opts, factory)  # resumes: an instance already predicted is not run again
    assert again.skipped == ["acme__calc-1"] and again.done == []
    assert factory.made == ["acme__calc-1"]

    lines = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert [tuple(line) for line in lines] == [KEYS]
    assert validate_predictions(predictions, {i.instance_id for i in instances}) == []
    oracle = lines[0]
    assert oracle["model_name_or_path"] == "autodev/test" and "def mul(a, b)" in oracle["model_patch"]
    check = tmp_path / "check"  # the patch applies at base_commit, as the harness applies it
    subprocess.run(["git", "clone", "-q", str(repos / "acme__calc"), str(check)], check=True)
    subprocess.run(["git", "checkout", "-q", instances[0].base_commit], cwd=check, check=True)
    (tmp_path / "p.diff").write_text(oracle["model_patch"], encoding="utf-8")
    subprocess.run(["git", "apply", "--check", str(tmp_path / "p.diff")], cwd=check, check=True)

    metas = [json.loads(line) for line in meta_path(predictions).read_text(encoding="utf-8").splitlines()]
    assert [m["instance_id"] for m in metas] == ["acme__calc-1"]
    assert all(m["cost_usd"] > 0 and m["wall_s"] > 0 and m["run_status"] == "done" for m in metas)

    # Hidden stays hidden: no request to any model, and no file the runs left, holds a marker
    assert factory.seen
    for text in factory.seen:
        assert HIDDEN_MARKER not in text and TEST_MARKER not in text
    assert any(instances[0].problem_statement in text for text in factory.seen)  # the search looks where it should
    archived = {
        p: p.read_text(encoding="utf-8", errors="replace") for p in runs_dir(predictions).rglob("*") if p.is_file()
    }
    sessions = [text for p, text in archived.items() if p.parent.name == "sessions"]
    assert sessions and any(instances[0].problem_statement in text for text in sessions)
    for path, text in archived.items():
        assert HIDDEN_MARKER not in text and TEST_MARKER not in text, path


def test_validate_swebench_oracle_resolves_null_does_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset, repos = make_swebench_fixture(tmp_path)
    code = main(["eval", "validate", str(dataset), "--repos", str(repos), "--jobs", "4", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"], report
    for row in report["tasks"]:
        assert row["oracle"]["passed"] and row["oracle"]["tests_passed"] == row["oracle"]["tests_total"] == 2, row
        assert not row["null"]["passed"], row


# ---------------------------------------------------------------- the format, the dataset, bad input
def test_predictions_validator_mirrors_the_official_harness(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    good = {"instance_id": "a__b-1", "model_name_or_path": "m", "model_patch": ""}
    rows = [
        good,
        {**good, "instance_id": "a__b-2", "model_patch": None},  # the harness writes it as text: must be str
        {"instance_id": "a__b-3", "model_patch": "x"},
        good,  # a repeat: the harness would keep one silently
        {**good, "instance_id": "zz-9"},
        [1, 2],
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n", encoding="utf-8")
    problems = validate_predictions(path, {"a__b-1", "a__b-2", "a__b-3"})
    assert problems == [
        "line 2: model_patch must be a string, not NoneType",
        "line 3: model_name_or_path is missing",
        "line 4: a__b-1 appears twice",
        "line 5: zz-9 is not in the dataset (the harness refuses it)",
        "line 6: each prediction must be a JSON object",
        "line 7: not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ]
    path.write_text(json.dumps(good) + "\n" + json.dumps(good)[:20], encoding="utf-8")  # cut short by a crash
    assert main(["eval", "check-predictions", str(path)]) == 1
    assert drop_broken_lines(path) == 1 and done_ids(path) == {"a__b-1"}  # what a resume does first
    assert main(["eval", "check-predictions", str(path)]) == 0


def test_bad_dataset_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "d.jsonl"
    rows.write_text(json.dumps({"instance_id": "x", "repo": "a/b"}) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="base_commit, problem_statement missing"):
        load_instances(rows)
    instance = {"instance_id": "x", "repo": "a/b", "base_commit": "c", "problem_statement": "p"}
    rows.write_text(json.dumps(instance) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="not A:B"):
        select_instances(load_instances(rows), None, "one")
    parquet = tmp_path / "d.parquet"
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:  # the optional extra is not installed: one line saying how to install it
        parquet.write_bytes(b"PAR1")
        with pytest.raises(UserError) as caught:
            load_instances(parquet)
        assert "autodev[parquet]" in (caught.value.hint or "")
    else:  # the Hugging Face dataset's own format
        import pyarrow

        pq.write_table(pyarrow.Table.from_pylist([{**instance, "FAIL_TO_PASS": '["t"]'}]), parquet)
        assert load_instances(parquet)[0].fail_to_pass == ("t",)
    out = tmp_path / "preds.jsonl"
    code = main(["eval", "swebench", "--dataset", str(rows), "--predictions", str(out), "--slice", "5:9"])
    assert code == 2 and "selects no instance" in capsys.readouterr().err and not out.exists()


def test_local_grade_names_the_tests_to_either_runner() -> None:
    pytest_env = TestEnvironment(("/py", "-m", "pytest", "-q", "-p", "no:cacheprovider"), "venv", "x")
    unittest_env = TestEnvironment(("/py", "-m", "unittest", "discover", "-q"), "venv", "x")
    assert named_tests_command(pytest_env, ["t.py::T::a"]) == [*pytest_env.command, "t.py::T::a"]
    assert named_tests_command(unittest_env, ["tests.t.T.a"]) == ["/py", "-m", "unittest", "tests.t.T.a"]


@pytest.mark.parametrize("repo", ["..", "../../etc", "--upload-pack=touch x/y", "a/b/c", "owner"])
def test_a_dataset_repo_that_is_not_owner_name_is_refused(tmp_path: Path, repo: str) -> None:
    """A hostile dataset's `repo` names a folder under the clone cache and a clone URL: `..` reached the
    cache's parent. Only owner/name is taken."""
    rows = tmp_path / "d.jsonl"
    instance = {"instance_id": "x", "repo": repo, "base_commit": "c", "problem_statement": "p"}
    rows.write_text(json.dumps(instance) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="is not owner/name"):
        load_instances(rows)
