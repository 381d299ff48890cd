"""`autodev bench selection-baseline`: a classifier learnt from the commits' labels, beside the rules.

It is the evidence behind docs/selection.md's "why recall stays low": if a model learnt from the
labels themselves cannot reach 50 % recall at <= 2 % unsafe from the words, no rule of the words can.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodev.apps.bench.selection_baseline import Commit, NaiveBayes, Reach, best_reach, features
from autodev.apps.cli.main import main


def test_features_are_the_first_lines_words_and_word_pairs() -> None:
    words = ("update", "docs", "index", "md", "update docs", "docs index", "index md")
    assert features("Update docs/index.md\n\nLonger body") == words
    assert features("") == ()


def test_the_best_cut_off_takes_the_most_recall_within_two_percent_unsafe() -> None:
    # 60 no-code commits scored high, then one code commit, then 40 more no-code, then code commits
    scored = [(10.0, False)] * 60 + [(5.0, True)] + [(4.0, False)] * 40 + [(1.0, True)] * 50
    # taking the first 101 (1 unsafe, 1.0 %) beats stopping at 60; past them every commit changed code
    assert best_reach(scored) == Reach(recall=1.0, fast_paths=101, unsafe=1)
    # a tie cannot be split: 10 no-code and 10 code commits with one score are taken together or not at all
    tied = [(3.0, False)] * 10 + [(3.0, True)] * 10
    assert best_reach(tied) == Reach(0.0, 0, 0)


def test_the_model_learns_which_words_come_with_code_changes() -> None:
    def commit(text: str, code: bool) -> Commit:
        return Commit("p", features(text), code, rules_fast=False)

    learnt = NaiveBayes([commit("fix crash in parser", True)] * 5 + [commit("update readme wording", False)] * 5)
    assert learnt.score(features("reword the readme")) > 0 > learnt.score(features("crash when parsing"))


def _write(path: Path, repo: str, rows: list[tuple[str, str, bool]]) -> None:
    lines = [
        json.dumps(
            {"repo": repo, "sha": f"{repo}{i}", "message": message, "files": [{"path": p}], "code_changed": code}
        )
        for i, (message, p, code) in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_command_prints_each_project_beside_the_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [("Fix the typo in README.md", "README.md", False), ("Add a --limit option", "src/app.py", True)] * 10
    _write(tmp_path / "a.jsonl", "acme/a", rows)
    _write(tmp_path / "b.jsonl", "acme/b", rows)
    assert main(["bench", "selection-baseline", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 0
    shown = capsys.readouterr().out
    assert "other projects" in shown and "same project" in shown
    table = [line for line in shown.splitlines() if line.startswith(("project", "acme/"))]
    assert len(table) == 3 and all(len(line) <= 80 for line in table), shown  # the table fits a terminal
    assert main(["bench", "selection-baseline", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--json"]) == 0
    projects = {row["project"]: row for row in json.loads(capsys.readouterr().out)["projects"]}
    assert set(projects) == {"acme/a", "acme/b"}
    # the rules send the typo fixes down the typo path and none of them changed code
    assert projects["acme/a"]["rules"] == {"recall": 1.0, "fast_paths": 10, "unsafe": 0}
    # learnt from the other project, the words separate the two kinds perfectly here
    assert projects["acme/a"]["other_projects"]["recall"] == 1.0


def test_one_project_has_no_other_projects_to_learn_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "a.jsonl", "acme/a", [("Fix the typo in README.md", "README.md", False)] * 5)
    assert main(["bench", "selection-baseline", str(tmp_path / "a.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["projects"][0]["other_projects"] is None


def test_records_without_labels_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.jsonl").write_text('{"message": "x", "files": []}\n', encoding="utf-8")
    assert main(["bench", "selection-baseline", str(tmp_path / "a.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no records with a code_changed label" in err and "Traceback" not in err
