"""The `autodev` command in-process: `main(argv) -> int`, its JSON output, its exit codes, and that bad
input leaves the repository exactly as it was."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts import (
    CALC_FILES,
    FEATURE_AGENTS,
    REQUEST,
    error,
    feature_script,
    git,
    issue_script,
    settle,
    tree_snapshot,
    trust_repo,
)

from autodev.apps.bench.pipeline_figures import VALIDATION, most_at_once
from autodev.apps.cli.main import main
from autodev.apps.demo import demo_dir
from autodev.models.fakes.scripted import ScriptedModel
from autodev.run.report import critical_path

AGENT_NAMES = {*FEATURE_AGENTS, "issue-creator"}
STAGES = [
    ["researcher-local", "researcher-web"],
    ["planner"],
    ["test-master"],
    ["implementer"],
    ["reviewer", "security-auditor", "doc-master"],
]


@pytest.fixture
def repo(make_repo: Any) -> Path:
    path = make_repo(CALC_FILES)
    settle(path)
    return path


def write_script(tmp_path: Path, script: dict[str, Any], name: str = "script.json") -> Path:
    """Scripts live outside the repository, so they don't dirty it."""
    path = tmp_path / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def repo_facts(repo: Path) -> dict[str, Any]:
    return {
        "tree": tree_snapshot(repo),
        "branches": git(repo, "branch", "--list", "--format=%(refname)"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
    }


def no_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: ScriptedModel, request: Any) -> Any:
        raise AssertionError(f"a model was called for {request.agent}")

    monkeypatch.setattr(ScriptedModel, "complete", refuse)


# ---------------------------------------------------------------- agents
def test_agents_json_lists_nine_agents(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "--json", "--repo", str(repo), "--provider", "scripted"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provider"] == "scripted"
    rows = {row["name"]: row for row in data["agents"]}
    assert set(rows) == AGENT_NAMES
    assert len(data["agents"]) == 9
    for name, row in rows.items():
        assert {"name", "tier", "model", "tools", "file"} <= set(row)
        assert row["tier"] in ("fast", "balanced", "deep")
        assert row["model"] == f"scripted-{row['tier']}"
        assert isinstance(row["tools"], list)
        assert Path(row["file"]).name == f"{name}.md"
        assert Path(row["file"]).is_file()
    assert rows["security-auditor"]["tier"] == "deep"
    assert rows["researcher-local"]["tier"] == "fast"
    assert rows["implementer"]["tier"] == "balanced"
    assert {"Edit", "RunTests"} <= set(rows["implementer"]["tools"])
    assert "Write" not in rows["reviewer"]["tools"]


def test_agents_json_without_provider_and_with_a_repo_override(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    override = repo / ".autodev" / "agents" / "reviewer.md"
    override.parent.mkdir(parents=True)
    override.write_text("---\nname: reviewer\ndescription: Our reviewer.\ntier: deep\n---\nReview.\n", encoding="utf-8")
    trust_repo(repo)  # no `tools:` gives it every tool: the user approves that
    assert main(["agents", "--json", "--repo", str(repo)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provider"] is None
    rows = {row["name"]: row for row in data["agents"]}
    assert len(rows) == 9
    assert all(row["model"] is None for row in rows.values())
    assert Path(rows["reviewer"]["file"]) == override
    assert rows["reviewer"]["tier"] == "deep"


# ---------------------------------------------------------------- plan
def test_plan_json_shows_the_stages_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_model_calls(monkeypatch)
    before = repo_facts(repo)
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert [[entry["agent"] for entry in stage] for stage in data["stages"]] == STAGES
    assert len(data["stages"]) == 5
    runs = {entry["agent"]: entry for stage in data["stages"] for entry in stage}
    # a scripted provider without a script has no web search: the web researcher is skipped, and says why
    assert not runs["researcher-web"]["runs"]
    assert runs["researcher-web"]["skip_reason"].startswith("no web search available")
    assert all(entry["runs"] for name, entry in runs.items() if name != "researcher-web")
    planner = data["stages"][1][0]
    assert sorted(planner["needs"]) == ["researcher-local", "researcher-web"]
    assert planner["model"] == "scripted-balanced"
    assert data["test_gate"]["after"] == "implementer"
    assert data["test_gate"]["command"][1:] == ["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-q"]
    assert data["request"] == REQUEST
    assert Path(data["repo"]) == repo

    assert repo_facts(repo) == before
    assert not (repo / ".autodev" / "runs").exists()


def test_plan_text_output(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    no_model_calls(monkeypatch)
    assert main(["plan", REQUEST, "--repo", str(repo), "--provider", "scripted"]) == 0
    out = capsys.readouterr().out
    assert "stage 1 (in parallel)" in out
    assert "stage 5 (in parallel)" in out
    assert "then the orchestrator runs the tests" in out
    assert not (repo / ".autodev" / "runs").exists()


def test_plan_without_a_provider_says_the_cost_waits_for_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", REQUEST, "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "estimated cost: unknown until a provider is configured" in out and "(no model)" not in out


# ---------------------------------------------------------------- bad input: exit 2, nothing written
SCRIPTED = ("--provider", "scripted", "--script", "{script}")


def _run(repo: Path, script: Path) -> list[str]:
    return ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)]


def _agent_file(text: str) -> Callable[[Path, Path], list[str]]:
    def setup(repo: Path, script: Path) -> list[str]:
        path = repo / ".autodev" / "agents" / "x.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return _run(repo, script)

    return setup


def _cyclic_pipeline(repo: Path, script: Path) -> list[str]:
    config = repo / ".autodev" / "config.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[pipeline]\nresearcher-local = []\nplanner = ["researcher-local", '
        '"implementer"]\ntest-master = ["planner"]\nimplementer = ["test-master"]\n',
        encoding="utf-8",
    )
    return _run(repo, script)


def _plain_directory(repo: Path, script: Path) -> list[str]:
    plain = repo.parent / "plain"
    plain.mkdir()
    (plain / "file.txt").write_text("not a repository\n", encoding="utf-8")
    return _run(plain, script)


def _args(*args: str) -> Callable[[Path, Path], list[str]]:
    def setup(repo: Path, script: Path) -> list[str]:
        return [
            part.replace("{repo}", str(repo)).replace("{script}", str(script)).replace("{parent}", str(repo.parent))
            for part in args
        ]

    return setup


def _bad_script(repo: Path, script: Path) -> list[str]:
    script.write_text('{"agents": {"reviewer": [{"txet": "typo"}]}}', encoding="utf-8")
    return _run(repo, script)


BAD_INPUT = {
    "malformed-frontmatter": (
        _agent_file("---\nname: x\ndescription: [unclosed\n---\nBody.\n"),
        ["x.md:", "not valid YAML"],
    ),
    "unknown-tool": (
        _agent_file("---\nname: x\ndescription: An agent.\ntools: Read, Teleport\n---\nBody.\n"),
        ["x.md:4", "tools", "Teleport"],
    ),
    "unknown-tier": (
        _agent_file("---\nname: x\ndescription: An agent.\ntier: ultra\n---\nBody.\n"),
        ["x.md:4", "unknown tier 'ultra'"],
    ),
    "cyclic-pipeline": (_cyclic_pipeline, ["cycle", "planner", "implementer"]),
    "plain-directory": (_plain_directory, ["not a git repository"]),
    "nonexistent-path": (
        _args("run", REQUEST, "--repo", "{parent}/nowhere", *SCRIPTED),
        ["does not exist"],
    ),
    "empty-request": (
        _args("run", "  ", "--repo", "{repo}", *SCRIPTED),
        ["request is empty"],
    ),
    "no-provider": (_args("run", REQUEST, "--repo", "{repo}"), ["no model provider", "autodev demo"]),
    "unknown-model-tier": (
        _args("run", REQUEST, "--repo", "{repo}", *SCRIPTED, "--model", "turbo=x"),
        ["--model", "turbo=x", "TIER=MODEL_ID"],
    ),
    "scripted-without-script": (_args("run", REQUEST, "--repo", "{repo}", "--provider", "scripted"), ["--script"]),
    "invalid-script": (_bad_script, ["not a valid model script"]),
    "unknown-provider-flag": (_args("run", REQUEST, "--repo", "{repo}", "--provider", "nope"), ["--provider"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_exits_2_and_changes_nothing(
    case: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_model_calls(monkeypatch)
    setup, expected = BAD_INPUT[case]
    script = write_script(tmp_path, feature_script())
    argv = setup(repo, script)
    exclude = (repo / ".git" / "info" / "exclude").read_bytes()
    before = repo_facts(repo)
    outside = tree_snapshot(repo.parent / "plain")

    assert main(argv) == 2
    message = capsys.readouterr().err
    for fragment in expected:
        assert fragment in message, (fragment, message)
    assert "Traceback" not in message

    assert repo_facts(repo) == before
    assert (repo / ".git" / "info" / "exclude").read_bytes() == exclude
    assert not (repo / ".autodev" / "runs").exists()
    assert not (repo / ".autodev" / "worktrees").exists()
    assert not (repo / ".autodev" / "cache").exists()
    assert tree_snapshot(repo.parent / "plain") == outside
    assert not (repo.parent / "nowhere").exists()


@pytest.mark.parametrize(
    ("config", "fragment"),
    [('[tiers]\nturbo = "x"\n', "[tiers]"), ('provider = "[/x]"\n', "[/x]")],
    ids=["bracketed-word-dropped", "closing-tag-crashes"],
)
def test_error_messages_are_printed_verbatim(
    config: str, fragment: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".autodev" / "config.toml").write_text(config, encoding="utf-8")
    assert main(["plan", REQUEST, "--repo", str(repo)]) == 2
    assert fragment in capsys.readouterr().err


def test_agent_error_text_is_printed_verbatim(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = write_script(tmp_path, feature_script({"researcher-web": [error("bad [/x] request")]}))
    assert main(["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)]) == 1
    assert "bad [/x] request" in capsys.readouterr().out


# ---------------------------------------------------------------- run
def test_run_json_prints_the_final_state_and_exits_0(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = write_script(tmp_path, feature_script())
    code = main(["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    state = json.loads(captured.out)
    assert state["schema"] == 1
    assert state["status"] == "done"
    assert Path(state["repo"]) == repo
    run_dir = repo / ".autodev" / "runs" / state["run_id"]
    assert json.loads((run_dir / "state.json").read_text(encoding="utf-8")) == state
    assert git(repo, "rev-parse", state["branch"]).strip() == state["commit"]
    assert "implementer" in captured.err  # progress goes to stderr, keeping stdout pure JSON


def test_run_yaml_script_and_text_output(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump(feature_script()), encoding="utf-8")
    assert main(["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)]) == 0
    out = capsys.readouterr().out
    assert "run done" in out
    assert "autodev/" in out


def test_failed_run_exits_1(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = write_script(tmp_path, feature_script({"researcher-web": [error("boom")]}))
    code = main(["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script), "--json"])
    state = json.loads(capsys.readouterr().out)
    assert code == 1
    assert state["status"] == "failed"
    assert "boom" in state["error"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


# ---------------------------------------------------------------- issue
def test_issue_writes_the_draft_to_the_run_directory(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = write_script(tmp_path, issue_script())
    branches = git(repo, "branch", "--list")
    argv = ["issue", "multiply numbers", "--repo", str(repo), "--provider", "scripted", "--script", str(script)]
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["state"]["status"] == "done"
    assert data["missing_sections"] == []
    assert data["url"] is None
    draft = Path(data["draft"])
    assert draft == repo / ".autodev" / "runs" / data["state"]["run_id"] / "issue.md"
    text = draft.read_text(encoding="utf-8")
    assert text.startswith("# Add a mul function\n")
    for section in ("## Problem", "## Proposal", "## Acceptance criteria"):
        assert section in text
    assert set(data["state"]["agents"]) == {"researcher-local", "issue-creator"}
    # Read-only on the user's checkout: no branch, no worktree, nothing changed.
    assert git(repo, "branch", "--list") == branches
    worktrees = git(repo, "worktree", "list", "--porcelain").splitlines()
    assert [line for line in worktrees if line.startswith("worktree ")] == [f"worktree {repo}"]
    assert not (repo / ".autodev" / "worktrees").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_issue_create_without_gh_exits_2(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    git_exe = shutil.which("git")
    assert git_exe is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(git_exe)
    monkeypatch.setenv("PATH", str(bin_dir))  # git, but no gh
    no_model_calls(monkeypatch)
    script = write_script(tmp_path, issue_script())
    before = repo_facts(repo)

    argv = ["issue", "multiply numbers", "--repo", str(repo), "--provider", "scripted", "--script", str(script)]
    assert main([*argv, "--create"]) == 2
    assert "gh" in capsys.readouterr().err
    assert repo_facts(repo) == before
    assert not (repo / ".autodev" / "runs").exists()


# ---------------------------------------------------------------- demo
def test_demo_json_runs_the_whole_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the demo repository lands here
    code = main(["demo", "--json"])
    captured = capsys.readouterr()

    assert code == 0, captured.err
    state = json.loads(captured.out)
    assert state["status"] == "done"
    assert Path(state["repo"]).is_relative_to(tmp_path)
    assert all(agent["status"] == "done" for agent in state["agents"].values())
    assert state["commit"]
    # Short by construction, not by a clock (a busy machine may take any time): the script's delays along
    # the pipeline's longest chain stay under 10 s, every agent ran once and each model call was one of
    # its scripted replies answered at the first attempt (no retries, no back-off), the gate ran once
    # (no remediation cycle), and the validation agents ran side by side.
    script = yaml.safe_load((demo_dir() / "script.yaml").read_text(encoding="utf-8"))
    delays = {agent: sum(reply.get("delay", 0) for reply in replies) for agent, replies in script["agents"].items()}
    assert critical_path(state["pipeline"], delays)[1] < 10
    assert {name: agent["runs"] for name, agent in state["agents"].items()} == dict.fromkeys(delays, 1)
    metrics = Path(state["repo"]) / ".autodev" / "runs" / state["run_id"] / "metrics.jsonl"
    calls = [record for line in metrics.read_text().splitlines() if (record := json.loads(line))["kind"] == "call"]
    assert Counter(call["agent"] for call in calls) == {
        agent: len(replies) for agent, replies in script["agents"].items()
    }
    assert {(call["attempts"], call["status"]) for call in calls} == {(1, "ok")}
    assert (state["gate"]["runs"], state["progress"]["cycle"]) == (1, 0)
    validation = [(name, state["agents"][name]["started_at"], state["agents"][name]["ended_at"]) for name in VALIDATION]
    assert most_at_once(validation) >= 2, validation
