"""`autodev bench selection-plan`: plans asked of a model (the anthropic SDK against a loopback server that
speaks its wire protocol), the run's own after-plan decision applied, answers kept and read back offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic import FakeAnthropic
from fakes.server import Error, RecordedRequest, Reply

from autodev.apps.bench.selection_plan import Commit, sample_of
from autodev.apps.bench.selection_plan_ask import listing_context
from autodev.apps.cli.main import main

FILES = {
    "readme": [{"path": "README.md", "added": 3, "deleted": 0}],
    "retry docs": [{"path": "docs/retry.md", "added": 12, "deleted": 2}],
    "greet": [{"path": "src/pkg/greet.py", "added": 4, "deleted": 1}, {"path": "tests/test_greet.py", "added": 9}],
    "parse": [{"path": "src/pkg/parse.py", "added": 3, "deleted": 1}],
    "page": [{"path": "docs/greeting.md", "added": 2, "deleted": 1}, {"path": "src/pkg/greet.py", "added": 1}],
}
COMMITS = [
    ("a1", "Add an install section to README.md", "readme", False),  # the request's own docs path
    ("a2", "Explain the retry settings", "retry docs", False),  # planned: docs only -> narrowed
    ("a3", "Make greet friendlier", "greet", True),  # planned: code -> full pipeline
    ("a4", "Handle empty input when parsing", "parse", True),  # security-sensitive: planned, keeps its audit
    ("a5", "Polish the greeting page", "page", True),  # planned: docs only, but the commit changed code
]
DOCS_PLAN = "## Goal\nExplain.\n## Changes\n1. {path} — a paragraph on it\n## Tests to write\n- none\n## Docs\nnone\n"
CODE_PLAN = (
    "## Goal\nFriendlier.\n## Changes\n1. src/pkg/greet.py — modify `greet(name) -> str`\n"
    "## Tests to write\n- tests/test_greet.py — greet('Ann') says hello\n"
)


def planner(request: RecordedRequest) -> Reply:
    """A planner that plans docs for the retry and the page requests and code for the rest."""
    asked = json.dumps(request.body["messages"])
    if "retry" in asked:
        return Reply(text=DOCS_PLAN.format(path="docs/retry.md"))
    if "greeting page" in asked:
        return Reply(text=DOCS_PLAN.format(path="docs/greeting.md"))
    return Reply(text=CODE_PLAN)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "commits.jsonl"
    lines = [
        {"repo": "o/p", "sha": sha, "subject": message, "message": message, "files": FILES[files], "code_changed": code}
        for sha, message, files, code in COMMITS
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeAnthropic(responder=planner) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        yield server


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | str]:
    code = main(["bench", "selection-plan", *args])
    captured = capsys.readouterr()
    if code == 0 and "--json" in args:
        return code, json.loads(captured.out)
    return code, captured.out + captured.err


def test_plans_are_asked_and_decided_as_a_run_decides(
    data: Path, fake: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = tmp_path / "plans.jsonl"
    code, result = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--json")
    assert code == 0 and isinstance(result, dict)
    overall = result["overall"]
    # a1 takes the request's docs path; the rest are planned
    assert (overall["by_request"], overall["planned"], result["asked"]) == (1, 4, 4)
    assert (overall["by_plan"], overall["by_plan_unsafe"]) == (2, 1)  # a2 narrowed rightly, a5 wrongly
    assert overall["unsafe_rate"] == pytest.approx(1 / 3)
    assert overall["recall"] == 1.0  # both no-code commits got a fast path
    assert overall["request_recall"] == 0.5
    # the planner's own instructions, the request, and the listing (tests counted by folder) as shared context
    first = fake.requests[0].body
    assert "You are the planner" in json.dumps(first["system"])
    assert "docs/retry.md" in json.dumps(first["system"]) and "tests/ (1 test file)" in json.dumps(first["system"])
    assert len(answers.read_text(encoding="utf-8").splitlines()) == 4

    # a second run asks nothing again; offline, with no key and no provider, the same figures from the answers
    code, again = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--json")
    assert code == 0 and isinstance(again, dict) and again["asked"] == 0 and len(fake.requests) == 4
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    code, offline = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--offline", "--json")
    assert code == 0 and isinstance(offline, dict) and offline["overall"] == overall
    code, text = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--offline")
    assert code == 0 and "after the plan" in str(text) and "33.3%" in str(text)


def test_the_oracle_plans_each_commit_as_it_changed_with_no_model(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "plans.jsonl"
    code, result = bench(capsys, str(data), "--oracle", "--sample", "0", "--answers", str(answers), "--json")
    assert code == 0 and isinstance(result, dict)
    overall = result["overall"]
    # a2's plan names docs/retry.md only: narrowed; a3, a4 and a5 name code (a5's commit touched greet.py too)
    assert (overall["planned"], overall["by_plan"], overall["by_plan_unsafe"]) == (4, 1, 0)
    assert overall["unsafe_rate"] == 0.0 and overall["recall"] == 1.0 and overall["within_target"]
    assert result["model"] == "oracle" and result["asked"] == 0 and not answers.exists()
    code, text = bench(capsys, str(data), "--oracle", "--sample", "0")
    assert code == 0 and "planned by the oracle" in str(text)


def test_a_repository_cannot_send_the_key_to_a_server_of_its_own(
    data: Path,
    fake: Any,
    make_repo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bench reads the current repository's configuration as a run does: its `base_url` (where the
    user's key goes) waits for `autodev trust`, so the plans go to the user's own server."""
    with FakeAnthropic(responder=planner) as theirs:
        config = f'provider = "anthropic"\nbase_url = "{theirs.base_url}"\n'
        repo = make_repo({"README.md": "# x\n", ".autodev/config.toml": config}, trusted=False)
        monkeypatch.chdir(repo)
        code, text = bench(capsys, str(data), "--answers", str(tmp_path / "plans.jsonl"), "--sample", "0")
        assert code == 0 and "base_url" in str(text)  # said on stderr: left out until approved
        assert theirs.requests == [] and len(fake.requests) == 4


def test_offline_without_answers_counts_unplanned_commits(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "plans.jsonl"
    answers.write_text(json.dumps({"sha": "a2", "model": "m1", "plan": DOCS_PLAN.format(path="docs/retry.md")}) + "\n")
    code, text = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--offline")
    assert code == 0 and "3 commit(s) need a plan" in str(text)


@pytest.mark.parametrize(
    ("answers_text", "args", "expected"),
    [
        (None, ("--offline",), "no plans"),
        ("not json\n", ("--offline", "--model", "balanced=m1"), "plans.jsonl:1: not an answer line"),
        ("\udcff\n", ("--offline", "--model", "balanced=m1"), "plans.jsonl: cannot be read as text"),
        (None, (), "no model provider is configured"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    answers_text: str | None,
    args: tuple[str, ...],
    expected: str,
) -> None:
    answers = tmp_path / "plans.jsonl"
    if answers_text is not None:
        answers.write_text(answers_text, encoding="utf-8", errors="surrogateescape")  # \udcff: the byte 0xff
    code, text = bench(capsys, str(data), "--answers", str(answers), *args)
    assert code == 2 and expected in str(text) and "Traceback" not in str(text)
    assert (answers.read_text(encoding="utf-8", errors="surrogateescape") if answers.exists() else None) == answers_text


def test_a_failing_model_stops_the_rest_and_keeps_what_arrived(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revoked key after the first plan: one line saying why (no traceback), exit 1, the plan kept."""
    answered = 0

    def first_then_refused(request: RecordedRequest) -> Reply | Error:
        nonlocal answered
        answered += 1
        return planner(request) if answered == 1 else Error(401, "invalid x-api-key")

    answers = tmp_path / "plans.jsonl"
    with FakeAnthropic(responder=first_then_refused) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        code, text = bench(capsys, str(data), "--answers", str(answers), "--sample", "0", "--concurrency", "1")
    assert code == 1 and "a model call failed" in str(text) and "Traceback" not in str(text)
    assert "1 of 4 plans arrived and are kept in" in str(text)
    assert len(answers.read_text(encoding="utf-8").splitlines()) == 1


def test_an_answers_file_that_cannot_be_written_is_refused_before_any_call(
    data: Path, fake: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file where a folder would be\n", encoding="utf-8")
    code, text = bench(capsys, str(data), "--answers", str(not_a_folder / "sub" / "plans.jsonl"), "--sample", "0")
    assert code == 2 and "cannot write the answers file" in str(text) and fake.requests == []
    assert not_a_folder.read_text(encoding="utf-8") == "a file where a folder would be\n"


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = bench(capsys, str(tmp_path / "nope.jsonl"), "--offline", "--model", "balanced=m1")
    assert code == 2 and "no such file" in str(text)


def test_sample_is_the_same_for_a_seed_and_keeps_the_files_order() -> None:
    commits = [Commit(str(i), "o/p", f"request {i}", i % 2 == 0) for i in range(50)]
    first, again, other = sample_of(commits, 10, 1), sample_of(commits, 10, 1), sample_of(commits, 10, 2)
    assert first == again and first != other
    assert [c.sha for c in first] == sorted((c.sha for c in first), key=int)
    assert sample_of(commits, None, 0) == commits


def test_listing_counts_test_files_and_caps_the_rest() -> None:
    paths = [f"src/m{i}.py" for i in range(8)] + ["tests/test_a.py", "tests/test_b.py"]
    text = listing_context(paths, limit=5)
    assert "src/m4.py" in text and "src/m5.py" not in text and "... and 3 more files" in text
    assert "tests/ (2 test files)" in text and "test_a" not in text
