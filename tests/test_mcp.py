"""`autodev mcp` driven by the official MCP client (`mcp.client.stdio`) over stdio, as Claude Code drives it.

Each test starts a real `python -m autodev mcp` subprocess and talks to it with `ClientSession`: list the
tools, plan, start a scripted run in the background, follow it with progress notifications, read its
report, diff and resources, cancel and resume, and send bad calls that must come back as tool errors
while the server keeps answering. A run started over MCP is compared with the same run started by
`autodev run`: the same state, branch, commit tree and metrics. No run is left behind (`no_runs_left`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextResourceContents
from scripts import CALC_FILES, REQUEST, feature_script, git

from autodev.apps.cli.main import main
from autodev.core.locks import FileLock, LockHeld, acquire_run_lock, holder, run_lock_path

TOOLS = {
    "autodev_plan",
    "autodev_run",
    "autodev_status",
    "autodev_report",
    "autodev_diff",
    "autodev_resume",
    "autodev_cancel",
}
SCRIPTED: dict[str, Any] = {"provider": "scripted"}


@contextlib.asynccontextmanager
async def connect(cwd: Path) -> AsyncIterator[ClientSession]:
    """A client session with a fresh `autodev mcp` serving `cwd` (the environment passed on whole: the
    tests' XDG_CONFIG_HOME holds the repositories' trust approvals)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "autodev", "mcp"], cwd=str(cwd), env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


def write_script(tmp_path: Path, script: dict[str, Any], name: str = "script.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


@pytest.fixture
def no_runs_left(tmp_path: Path) -> Iterator[None]:
    """Whatever a test leaves running under tmp_path (a background run and its tests) is killed after it."""
    yield
    for lock in tmp_path.glob("*/.autodev/runs/*/lock"):
        pid = holder(lock)
        if pid is None or pid <= 0:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # the run leads its own session: its children go with it
        deadline = time.monotonic() + 30
        while holder(lock) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holder(lock) is None, f"{lock} is still held"


def test_the_server_lists_its_tools_and_resources_and_starts_without_the_provider_sdks(
    make_repo: Any, no_runs_left: None
) -> None:
    repo = make_repo(CALC_FILES)

    async def scenario() -> None:
        started = time.monotonic()
        async with connect(repo) as session:
            print(f"\nautodev mcp: initialize answered {time.monotonic() - started:.2f} s after the spawn")
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == TOOLS
            assert all(tool.description for tool in tools.values())
            run_options = tools["autodev_run"].input_schema["$defs"]["RunOptions"]["properties"]
            flags = {"provider", "script", "model", "max_parallel", "max_cost", "full", "skip", "only"}
            assert flags <= set(run_options)
            assert "max_cost" in tools["autodev_resume"].input_schema["properties"]
            templates = {t.uri_template for t in (await session.list_resource_templates()).resource_templates}
            assert templates == {"autodev://runs/{run_id}/state", "autodev://runs/{run_id}/report"}

    anyio.run(scenario)
    # The start-up cost is the CLI's and the SDK's: the provider SDKs load only in the runs themselves.
    probe = (
        "import sys, autodev.apps.cli.main, autodev.apps.mcp.server; "
        "print(sorted(m for m in ('anthropic', 'openai', 'temporalio', 'bandit', 'PIL') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_plan_answers_what_autodev_plan_json_prints(
    make_repo: Any, no_runs_left: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES)
    options = {"provider": "scripted", "skip": ["doc-master"], "max_cost": 2.5}

    async def scenario() -> dict[str, Any]:
        async with connect(repo) as session:
            return data(await session.call_tool("autodev_plan", {"request": REQUEST, "options": options}))

    answer = anyio.run(scenario)
    capsys.readouterr()
    argv = ["plan", REQUEST, "--repo", str(repo), "--provider", "scripted", "--skip", "doc-master"]
    argv += ["--max-cost", "2.5", "--json"]
    assert main(argv) == 0
    assert answer == json.loads(capsys.readouterr().out)
    assert answer["selection"]["skips"]["doc-master"] and answer["cost_estimate"]["max_cost_usd"] == 2.5
    assert not (repo / ".autodev" / "runs").exists()  # a plan writes nothing


def test_a_run_started_over_mcp_survives_the_client_and_ends_like_autodev_run(
    make_repo: Any, tmp_path: Path, no_runs_left: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CALC_FILES, name="over-mcp")
    twin = make_repo(CALC_FILES, name="over-cli")
    script = write_script(tmp_path, feature_script(delay=0.05))
    options = {**SCRIPTED, "script": str(script)}
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def start() -> dict[str, Any]:
        async with connect(repo) as session:  # the client goes away right after the run started
            return data(await session.call_tool("autodev_run", {"request": REQUEST, "options": options}))

    async def follow(run_id: str) -> tuple[dict[str, Any], ...]:
        async with connect(repo) as session:
            waited = await session.call_tool(
                "autodev_status", {"run_id": run_id, "wait_seconds": 240}, progress_callback=on_progress
            )
            report = data(await session.call_tool("autodev_report", {"run_id": run_id}))
            whole = data(await session.call_tool("autodev_diff", {"run_id": run_id}))
            tests_only = data(await session.call_tool("autodev_diff", {"run_id": run_id[:15], "path": "tests"}))
            state = await session.read_resource(f"autodev://runs/{run_id}/state")
            report_resource = await session.read_resource(f"autodev://runs/{run_id}/report")
            listing = (await session.read_resource("autodev://runs")).contents[0]
            assert isinstance(listing, TextResourceContents) and json.loads(listing.text) == {"runs": [run_id]}
            contents = [state.contents[0], report_resource.contents[0]]
            assert all(isinstance(c, TextResourceContents) for c in contents)
            state_json, report_json = (json.loads(c.text) for c in contents if isinstance(c, TextResourceContents))
            return data(waited), report, whole, tests_only, state_json, report_json

    started = anyio.run(start)
    run_id = started["run_id"]
    assert started["status"] == "running" and started["live"] and started["working"]
    waited, report, whole, tests_only, state_json, report_json = anyio.run(follow, run_id)

    row = waited["runs"][0]
    assert (row["run_id"], row["status"], row["live"]) == (run_id, "done", False)
    assert progress and progress[-1][0] == progress[-1][1] == len(state_json["agents"])
    assert [done for done, _, _ in progress] == sorted(done for done, _, _ in progress)
    assert report["run_id"] == run_id and report["status"] == "done" and report["agents"]
    assert report_json == report
    assert "def mul(a, b):" in whole["diff"] and "test_mul" in whole["diff"] and whole["of"] == "commit"
    assert "tests/test_calc.py" in tests_only["diff"] and "calc/__init__.py" not in tests_only["diff"]
    assert (repo / ".autodev" / "runs" / run_id / "mcp.log").is_file()

    capsys.readouterr()
    assert main(["status", run_id, "--repo", str(repo), "--json"]) == 0  # an ordinary run for the CLI too
    assert json.loads(capsys.readouterr().out)["runs"] == waited["runs"]

    # The same request, script and options through `autodev run` on an identical repository.
    assert main(["run", REQUEST, "--repo", str(twin), "--provider", "scripted", "--script", str(script)]) == 0
    [cli_run] = sorted((twin / ".autodev" / "runs").iterdir())
    cli_state = json.loads((cli_run / "state.json").read_text())
    mcp_state = json.loads((repo / ".autodev" / "runs" / run_id / "state.json").read_text())
    assert mcp_state == state_json | {"error": mcp_state["error"]}  # the resource is state.json (redacted)
    for key in ("status", "change_type", "pipeline", "options", "diff", "error", "resumes"):
        assert mcp_state[key] == cli_state[key], key
    untimed = {key for key in cli_state["gate"] if not key.endswith("_s")}
    assert {k: mcp_state["gate"][k] for k in untimed} == {k: cli_state["gate"][k] for k in untimed}
    assert {name: (agent["status"], agent["runs"]) for name, agent in mcp_state["agents"].items()} == {
        name: (agent["status"], agent["runs"]) for name, agent in cli_state["agents"].items()
    }
    assert mcp_state["branch"] == f"autodev/{run_id}"
    for where, state in ((repo, mcp_state), (twin, cli_state)):
        assert git(where, "rev-list", "--count", f"{state['base_commit']}..{state['branch']}").strip() == "1"
    mcp_tree = git(repo, "rev-parse", f"{mcp_state['commit']}^{{tree}}")
    assert mcp_tree == git(twin, "rev-parse", f"{cli_state['commit']}^{{tree}}")

    def kinds(run_dir: Path) -> Counter[tuple[str, str]]:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        return Counter((record["kind"], record.get("agent") or "") for record in map(json.loads, lines))

    assert kinds(repo / ".autodev" / "runs" / run_id) == kinds(cli_run)
    assert git(repo, "status", "--porcelain") == ""  # the user's checkout is untouched


def test_cancel_stops_a_run_resumably_and_resume_finishes_it(
    make_repo: Any, tmp_path: Path, no_runs_left: None
) -> None:
    repo = make_repo(CALC_FILES)
    script = write_script(tmp_path, feature_script(delays={"planner": 4.0}))
    options = {**SCRIPTED, "script": str(script)}

    async def scenario() -> tuple[dict[str, Any], ...]:
        async with connect(repo) as session:
            started = data(await session.call_tool("autodev_run", {"request": REQUEST, "options": options}))
            run_id = started["run_id"]
            with anyio.fail_after(120):  # past set-up, inside the planner's 4 s reply: a run at work
                while (
                    data(await session.call_tool("autodev_status", {"run_id": run_id}))["runs"][0]["agents"]["planner"]
                    != "running"
                ):
                    await anyio.sleep(0.05)
            cancelled = data(await session.call_tool("autodev_cancel", {"run_id": run_id}))
            again = error_text(await session.call_tool("autodev_cancel", {"run_id": run_id}))
            resumed = data(await session.call_tool("autodev_resume", {"run_id": run_id}))
            twice = error_text(await session.call_tool("autodev_resume", {"run_id": run_id}))
            waited = data(await session.call_tool("autodev_status", {"run_id": run_id, "wait_seconds": 240}))
            done_twice = error_text(await session.call_tool("autodev_resume", {"run_id": run_id}))
            return started, cancelled, resumed, waited, {"again": again, "twice": twice, "done": done_twice}

    started, cancelled, resumed, waited, refusals = anyio.run(scenario)
    run_dir = repo / ".autodev" / "runs" / started["run_id"]
    assert cancelled["stopped"] is True and cancelled["live"] is False
    assert cancelled["status"] == "interrupted"
    assert "is not running" in refusals["again"]
    assert resumed["working"] and resumed["live"]
    assert "still running" in refusals["twice"]
    assert waited["runs"][0]["status"] == "done"
    assert "already done" in refusals["done"]
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "done" and state["resumes"] == 1
    assert git(repo, "rev-list", "--count", f"{state['base_commit']}..{state['branch']}").strip() == "1"
    assert holder(run_lock_path(run_dir)) is None


def test_bad_calls_are_tool_errors_and_the_server_keeps_answering(
    make_repo: Any, tmp_path: Path, no_runs_left: None
) -> None:
    repo = make_repo(CALC_FILES)
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    script = write_script(tmp_path, feature_script())

    async def scenario() -> dict[str, str]:
        async with connect(repo) as session:
            errors = {
                "no runs": await session.call_tool("autodev_report", {"run_id": "20990101-000000-abcdef"}),
                "dotdot status": await session.call_tool("autodev_status", {"run_id": "../../etc"}),
                "not a repo": await session.call_tool("autodev_status", {"repo": str(not_a_repo)}),
                "missing repo": await session.call_tool("autodev_plan", {"request": REQUEST, "repo": "/nonexistent"}),
                "empty request": await session.call_tool("autodev_plan", {"request": "  "}),
                "unknown agent": await session.call_tool(
                    "autodev_run", {"request": REQUEST, "options": {**SCRIPTED, "skip": ["nobody"]}}
                ),
                "missing script": await session.call_tool(
                    "autodev_run", {"request": REQUEST, "options": {**SCRIPTED, "script": str(tmp_path / "none")}}
                ),
                "wrong type": await session.call_tool("autodev_status", {"wait_seconds": "soon"}),
                "unknown option": await session.call_tool(
                    "autodev_plan", {"request": REQUEST, "options": {"max_cost_usd": 1}}
                ),
            }
            started = data(
                await session.call_tool(
                    "autodev_run", {"request": REQUEST, "options": {**SCRIPTED, "script": str(script)}}
                )
            )
            run_id = started["run_id"]
            errors |= {
                "unknown run": await session.call_tool("autodev_diff", {"run_id": "nope"}),
                "dotdot diff": await session.call_tool("autodev_diff", {"run_id": f"{run_id}/../{run_id}"}),
                "outside": await session.call_tool("autodev_diff", {"run_id": run_id, "path": "../outside"}),
                "absolute": await session.call_tool("autodev_diff", {"run_id": run_id, "path": "/etc/passwd"}),
                "dotdot cancel": await session.call_tool("autodev_cancel", {"run_id": ".."}),
            }
            with pytest.raises(MCPError, match="not found"):
                await session.read_resource("autodev://runs/nope/state")
            data(await session.call_tool("autodev_status", {"run_id": run_id, "wait_seconds": 240}))
            # still answering, and still the same server
            assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS
            return {name: error_text(result) for name, result in errors.items()}

    texts = anyio.run(scenario)
    assert "no runs" in texts["no runs"]
    assert "not a run id" in texts["dotdot status"] and "not a run id" in texts["dotdot diff"]
    assert "not a run id" in texts["dotdot cancel"]
    assert "not a git repository" in texts["not a repo"]
    assert "does not exist" in texts["missing repo"]
    assert "nobody" in texts["unknown agent"]
    assert "none" in texts["missing script"]
    assert "wait_seconds" in texts["wrong type"]
    assert "max_cost_usd" in texts["unknown option"]  # not an `autodev run` flag: refused, not ignored
    assert "not found" in texts["unknown run"]
    assert "outside the repository" in texts["outside"] and "outside the repository" in texts["absolute"]
    assert all("Traceback" not in text for text in texts.values())
    assert len(list((repo / ".autodev" / "runs").iterdir())) == 1  # the refused runs left nothing
    assert not (repo / ".autodev" / "cache" / "mcp").exists()  # nor a log: theirs said why, in the tool error
    assert git(repo, "status", "--porcelain") == ""


def test_autodev_run_refuses_a_run_id_that_is_not_one_path_component(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(CALC_FILES)
    script = write_script(tmp_path, feature_script())
    base = ["run", REQUEST, "--repo", str(repo), "--provider", "scripted", "--script", str(script)]
    assert main([*base, "--run-id", "../escape"]) == 2
    assert main([*base, "--run-id", "a/b"]) == 2
    assert not (repo / ".autodev" / "runs").exists() and not (tmp_path / "escape").exists()
    assert main([*base, "--run-id", "chosen-1"]) == 0
    assert (repo / ".autodev" / "runs" / "chosen-1" / "state.json").is_file()
    assert main([*base, "--run-id", "chosen-1"]) == 2  # a run id names one run


def test_autodev_mcp_without_the_sdk_is_a_one_line_usage_error() -> None:
    probe = (
        "import sys; sys.modules['mcp'] = None\n"  # as if the `mcp` extra were not installed
        "from autodev.apps.cli.main import main\n"
        "sys.exit(main(['mcp']))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert "pip install 'autonomous-dev[mcp]'" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_status_probe_at_the_instant_a_run_takes_its_lock_does_not_make_it_refuse_the_run(tmp_path: Path) -> None:
    """`holder` probes by taking the lock for an instant; the MCP server polls it while a resume starts."""
    probe = FileLock(run_lock_path(tmp_path))
    assert probe.acquire()
    threading.Timer(0.05, probe.release).start()  # a probe lets go at once; 2 s of grace cover a loaded machine
    lock = acquire_run_lock(tmp_path, "run-1")
    assert lock.held
    with pytest.raises(LockHeld, match="in use"):  # a process that holds it is still a holder
        acquire_run_lock(tmp_path, "run-1")
    lock.release()
