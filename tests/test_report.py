"""`autodev report` and the figures behind it: totals that are sums of the records, the critical path,
overlap (agent time / wall), p50/p95 across runs, bottlenecks, hints, and the timeline in PNG, HTML and SVG."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from run_fixture import shared_run
from scripts import VALIDATION_AGENTS

from autodev.apps.cli.main import main
from autodev.apps.demo import DEMO_REQUEST
from autodev.config.settings import load_settings
from autodev.core.metrics import agent_record, timer_record
from autodev.core.records import AgentRecord, MetricRecord, read_metrics
from autodev.models import Usage
from autodev.run import report as rep
from autodev.run.graph import FEATURE_PIPELINE, stages
from autodev.run.layout import load_state
from autodev.run.state import AgentState, RunState

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- a real (scripted) run, shared
@dataclass(frozen=True)
class DemoRun:
    repo: Path
    run_dir: Path
    state: dict[str, Any]  # state.json as written
    run_state: RunState  # as the one reader reads it
    records: list[MetricRecord]

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.records if r.kind == kind]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo's pipeline, priced at real list prices, with its scripted delays cut to 5 % (the run
    tests/test_screens.py and test_run_page.py look at too: made once per session)."""
    shared = shared_run(tmp_path_factory.getbasetemp())
    records = read_metrics(shared.run_dir / "metrics.jsonl")
    return DemoRun(shared.repo, shared.run_dir, shared.state, load_state(shared.run_dir), records)


def demo_report(demo: DemoRun) -> rep.RunReport:
    return rep.run_report(demo.run_state, demo.records, demo.state["pipeline"])


def state_of(run_id: str, agents: Sequence[str] = (), **fields: Any) -> RunState:
    """A run's state as state.json holds it, with only what a test needs filled in."""
    return RunState(
        run_id=run_id,
        request=f"request of {run_id}",
        repo="",
        worktree="",
        branch="",
        base_commit="",
        agents={name: AgentState() for name in agents},
        **fields,
    )


def test_run_totals_are_sums_of_agent_records_which_are_sums_of_call_records(demo: DemoRun) -> None:
    report = demo_report(demo)
    agents, calls = demo.kind("agent"), demo.kind("call")
    assert calls and len(agents) == 8
    for key in rep.TOKEN_FIELDS:
        assert getattr(report.totals, key) == sum(r[key] for r in agents) == sum(c[key] for c in calls), key
    assert report.totals.output_tokens > 0 and report.totals.input_tokens > 0
    assert report.totals.calls == len(calls)
    assert report.totals.turns == sum(r["turns"] for r in agents) == len(calls)  # no retries in a script
    assert report.totals.duration_s == pytest.approx(sum(r["duration_s"] for r in agents))
    # cost: every call priced (Claude ids), each agent's cost is the sum of its calls', the run's the sum of all
    assert all(c["cost_usd"] is not None for c in calls)
    assert report.totals.cost_usd == pytest.approx(sum(r["cost_usd"] for r in agents))
    assert report.totals.cost_usd == pytest.approx(sum(c["cost_usd"] for c in calls))
    assert report.totals.cost_usd == pytest.approx(demo.state["cost_usd"])
    tools: Counter[str] = Counter()
    for record in agents:
        tools.update(record["tool_calls"])
    assert report.totals.tool_calls == dict(tools)

    for row in report.agents:
        own_calls = [c for c in calls if c["agent"] == row.agent]
        (record,) = [r for r in agents if r["agent"] == row.agent]
        for key in rep.TOKEN_FIELDS:
            assert getattr(row, key) == record[key] == sum(c[key] for c in own_calls), (row.agent, key)
        assert row.cost_usd == pytest.approx(sum(c["cost_usd"] for c in own_calls)), row.agent
        assert row.turns == len(own_calls)
        assert row.status == "done" and row.runs == 1
        assert row.tier == demo.state["agents"][row.agent]["tier"]
        assert row.model == demo.state["agents"][row.agent]["model"]
        assert row.peak_context == max(record["context_tokens"])
        assert row.handoff_tokens == record["handoff_tokens"] > 0
        assert row.tool_calls == record["tool_calls"]


def test_rows_follow_the_pipeline_and_the_timers_are_the_orchestrators_phases(demo: DemoRun) -> None:
    report = demo_report(demo)
    assert [row.agent for row in report.agents] == list(demo.state["agents"])
    assert {"build_phase", "validation_phase", "test_gate"} <= set(report.timers)
    for name, seconds in report.timers.items():
        assert seconds == pytest.approx(sum(t["duration_s"] for t in demo.kind("timer") if t["name"] == name))


def test_wall_time_overlap_and_critical_path_of_a_run(demo: DemoRun) -> None:
    report = demo_report(demo)
    agents = demo.kind("agent")
    starts = [datetime.fromisoformat(r["started_at"]) for r in agents]
    ends = [datetime.fromisoformat(r["ended_at"]) for r in agents]
    assert report.wall_s == pytest.approx((max(ends) - min(starts)).total_seconds())
    assert report.overlap == pytest.approx(sum(r["duration_s"] for r in agents) / report.wall_s)
    # the critical path is a chain of dependencies whose durations add up to its length, and no longer than the wall
    # (the test step is a link of it: after the implementer, before the validation agents)
    needs = demo.state["pipeline"]
    path = report.critical_path
    assert path[0] in ("researcher-local", "researcher-web") and len(path) >= 4
    assert demo.state["gate"]["after"] == "implementer"
    assert path[path.index("tests") - 1] == "implementer" and path[path.index("tests") + 1] in VALIDATION_AGENTS
    for earlier, later in itertools.pairwise(path):
        if "tests" not in (earlier, later):
            assert earlier in needs[later], (earlier, later)
    durations = {r["agent"]: r["duration_s"] for r in agents}
    durations["tests"] = sum(t["duration_s"] for t in demo.kind("timer") if t["name"] == "test_gate")
    assert report.critical_path_s == pytest.approx(sum(durations[name] for name in path))
    assert max(durations.values()) <= report.critical_path_s <= report.wall_s + 1e-6


def test_critical_path_on_a_hand_made_graph() -> None:
    needs = {"a": [], "b": [], "c": ["a", "b"], "d": ["c"], "e": ["a"], "skipped": ["d"]}
    durations = {"a": 1.0, "b": 3.0, "c": 2.0, "d": 1.0, "e": 4.0}
    assert rep.critical_path(needs, durations) == (["b", "c", "d"], 6.0)
    durations["e"] = 10.0
    assert rep.critical_path(needs, durations) == (["a", "e"], 11.0)
    durations.update(skipped=0.0, d=9.0)  # an agent that did not run adds nothing and is not named
    assert rep.critical_path(needs, durations) == (["b", "c", "d"], 14.0)
    assert rep.critical_path({}, {}) == ([], 0.0)


# ---------------------------------------------------------------- synthetic records
def agent_rec(
    run_id: str,
    agent: str,
    start_s: float,
    duration_s: float,
    *,
    tier: str = "balanced",
    status: str = "done",
    output_tokens: int = 800,
    context: Sequence[int] = (1000,),
    cost: float | None = 0.01,
    skip_reason: str | None = None,
) -> AgentRecord:
    started = T0 + timedelta(seconds=start_s)
    ran = status != "skipped"
    return agent_record(
        run_id=run_id,
        agent=agent,
        tier=tier,
        model=f"model-{tier}",
        provider="scripted",
        status=status,
        skip_reason=skip_reason,
        started_at=started if ran else None,
        ended_at=started + timedelta(seconds=duration_s) if ran else None,
        turns=2 if ran else 0,
        tool_calls=Counter({"Read": 1}) if ran else None,
        usage=Usage(input_tokens=1000, output_tokens=output_tokens) if ran else Usage(),
        cost_usd=cost if ran else None,
        context_tokens=list(context) if ran else None,
        handoff_tokens=100 if ran else 0,
    )


def history(agent: str, durations: Sequence[float], **kwargs: Any) -> list[AgentRecord]:
    return [agent_rec(f"old-{i:02d}", agent, 0.0, seconds, **kwargs) for i, seconds in enumerate(durations)]


def test_skipped_agents_keep_their_reason_and_add_nothing() -> None:
    records = [
        agent_rec("r", "planner", 0, 2.0),
        agent_rec("r", "researcher-web", 0, 0, status="skipped", skip_reason="the provider has no web search"),
    ]
    report = rep.run_report(state_of("r", ["researcher-web", "planner"]), records, {})
    web, _ = report.agents
    assert (web.agent, web.status, web.skip_reason, web.runs) == (
        "researcher-web",
        "skipped",
        "the provider has no web search",
        0,
    )
    assert report.totals.cost_usd == pytest.approx(0.01)  # a skipped agent's null cost is not "unknown"
    assert report.totals.input_tokens == 1000 and report.totals.duration_s == 2.0


def test_an_unpriced_agent_makes_the_total_cost_unknown_not_a_partial_sum() -> None:
    records = [agent_rec("r", "planner", 0, 1.0), agent_rec("r", "implementer", 1, 1.0, cost=None)]
    report = rep.run_report(state_of("r"), records, {"planner": [], "implementer": ["planner"]})
    assert report.totals.cost_usd is None


def test_a_rerun_agent_sums_its_runs() -> None:
    records = [agent_rec("r", "implementer", 0, 2.0), agent_rec("r", "implementer", 5, 3.0)]
    (row,) = rep.agent_rows(records)
    assert (row.runs, row.duration_s, row.turns, row.output_tokens) == (2, 5.0, 4, 1600)
    assert row.cost_usd == pytest.approx(0.02)
    assert row.tool_calls == {"Read": 2}


def test_p50_and_p95_across_runs() -> None:
    records = [
        *history("planner", [float(n) for n in range(20, 0, -1)]),  # 20 .. 1, any order
        agent_rec("x", "planner", 0, 999.0, status="failed"),  # only finished runs count
        agent_rec("x", "planner", 0, 0, status="skipped"),
        *history("reviewer", [4.0]),
        timer_record(run_id="x", name="build_phase", started_at=T0, duration_s=50.0),
    ]
    trends = {t.agent: t for t in rep.trends(records)}
    assert set(trends) == {"planner", "reviewer"}
    planner = trends["planner"]
    assert planner.samples == 20
    assert planner.p50_s == pytest.approx(10.5)
    assert planner.p95_s == pytest.approx(19.05)  # linear between the 19th and 20th of 20
    assert planner.last_s == 1.0
    assert (trends["reviewer"].p50_s, trends["reviewer"].p95_s) == (4.0, 4.0)


def test_bottlenecks_time_budget_and_own_p95_once_ten_samples_exist() -> None:
    records = [agent_rec("now", "planner", 0, 20.0), agent_rec("now", "reviewer", 20, 3.0)]
    report = rep.run_report(state_of("now"), records, {"planner": [], "reviewer": ["planner"]})
    assert rep.bottlenecks(report, [], {}) == []
    over_budget = rep.bottlenecks(report, [], {"reviewer": 2.5, "planner": 60})
    assert over_budget == ["reviewer took 3.0s, over its 2.5s budget"]
    nine = rep.trends(history("planner", [10.0] * 9))
    assert rep.bottlenecks(report, nine, {}) == []  # too few samples to judge
    ten = rep.trends(history("planner", [10.0] * 10))
    assert rep.bottlenecks(report, ten, {}) == ["planner took 20.0s, over 1.5 x its p95 of 10.0s"]
    usual = rep.trends(history("planner", [14.0] * 10))
    assert rep.bottlenecks(report, usual, {}) == []  # 20 < 1.5 x 14


def test_time_budgets_come_from_config(tmp_path: Path) -> None:
    (tmp_path / ".autodev").mkdir()
    (tmp_path / ".autodev" / "config.toml").write_text("[time_budgets]\nplanner = 90\n", encoding="utf-8")
    assert load_settings(tmp_path, env={}).time_budgets == {"planner": 90.0}


def test_hint_deep_tier_with_small_outputs() -> None:
    records = [
        agent_rec("r", "security-auditor", 0, 1.0, tier="deep", output_tokens=120),
        agent_rec("r", "planner", 0, 1.0, tier="deep", output_tokens=2000),
        agent_rec("r", "reviewer", 0, 1.0, tier="fast", output_tokens=10),
    ]
    report = rep.run_report(state_of("r"), records, {})
    (hint,) = rep.hints(report, {}, [])
    assert hint.startswith("security-auditor is on the deep tier but wrote 120 output tokens")
    assert "balanced tier" in hint


def test_hint_context_budget_often_hit() -> None:
    report = rep.run_report(state_of("r"), [agent_rec("r", "planner", 0, 1.0)], {})
    budgets = {"planner": 1000}
    often = history("planner", [1.0], context=(400, 950)) * 2 + history("planner", [1.0], context=(300,))
    (hint,) = rep.hints(report, budgets, [], often)
    assert hint.startswith("planner used 90 % or more of its context budget in 2 of 3 runs")
    rarely = history("planner", [1.0], context=(950,)) + history("planner", [1.0], context=(100,)) * 2
    assert rep.hints(report, budgets, [], rarely) == []
    too_few = history("planner", [1.0], context=(990,)) * 2
    assert rep.hints(report, budgets, [], too_few) == []


def test_hint_parallel_stage_that_did_not_overlap() -> None:
    needs = {"researcher-local": [], "researcher-web": [], "planner": ["researcher-local", "researcher-web"]}
    in_turn = [
        agent_rec("r", "researcher-local", 0, 2.0),
        agent_rec("r", "researcher-web", 2.5, 2.0),
        agent_rec("r", "planner", 5, 1.0),
    ]
    groups = [["researcher-local", "researcher-web"], ["planner"]]
    (hint,) = rep.hints(rep.run_report(state_of("r"), in_turn, needs), {}, groups)
    assert hint.startswith("researcher-local and researcher-web should run in parallel but did not overlap")
    together = [*in_turn[:1], agent_rec("r", "researcher-web", 0.5, 2.0), in_turn[2]]
    assert rep.hints(rep.run_report(state_of("r"), together, needs), {}, groups) == []


def test_the_demo_run_overlaps_its_parallel_stages(demo: DemoRun) -> None:
    report = demo_report(demo)
    groups = stages(FEATURE_PIPELINE)
    advice = rep.hints(report, {}, groups)
    assert not any("did not overlap" in line for line in advice)
    assert any(line.startswith("security-auditor is on the deep tier") for line in advice)


# ---------------------------------------------------------------- the CLI
def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    return json.loads(out)


def write_run(repo: Path, run_id: str, records: list[AgentRecord], needs: dict[str, list[str]]) -> None:
    """A run directory as the orchestrator leaves it, and its records appended to the cross-run cache."""
    run_dir = repo / ".autodev" / "runs" / run_id
    run_dir.mkdir(parents=True)
    state = state_of(run_id, status="done", pipeline=needs)
    state.agents = {name: AgentState(status="done") for name in needs}
    (run_dir / "state.json").write_text(json.dumps(state.to_json()), encoding="utf-8")
    lines = "".join(json.dumps({**r.to_json(), "run_id": run_id}) + "\n" for r in records)
    (run_dir / "metrics.jsonl").write_text(lines, encoding="utf-8")
    cache = repo / ".autodev" / "cache" / "performance_metrics.jsonl"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("a", encoding="utf-8") as handle:
        handle.write(lines)


NEEDS = {"planner": [], "implementer": ["planner"]}


def two_agent_run(planner_s: float, implementer_s: float = 1.0) -> list[AgentRecord]:
    return [agent_rec("", "planner", 0, planner_s), agent_rec("", "implementer", planner_s, implementer_s)]


def test_report_json_of_the_last_run(demo: DemoRun, capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "report", "--repo", str(demo.repo), "--json")
    assert data["run_id"] == demo.state["run_id"] and data["status"] == "done"
    assert data["request"] == DEMO_REQUEST
    expected = demo_report(demo)
    assert data["totals"] == json.loads(json.dumps(expected.to_json()["totals"]))
    assert [a["agent"] for a in data["agents"]] == list(demo.state["agents"])
    assert data["critical_path"] == expected.critical_path
    assert data["overlap"] == pytest.approx(expected.overlap) and "parallel_efficiency" not in data
    assert data["bottlenecks"] == [] and data["timeline"] is None
    assert any("deep tier" in hint for hint in data["hints"])
    assert cli_json(capsys, "report", "--repo", str(demo.repo), "--last", "--json") == data
    assert cli_json(capsys, "report", demo.state["run_id"][:12], "--repo", str(demo.repo), "--json") == data


def test_report_text_names_every_agent_and_the_totals(demo: DemoRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "report", "--repo", str(demo.repo))
    assert code == 0
    for name in demo.state["agents"]:
        assert re.search(rf"^{name}\s+done\s", out, re.MULTILINE), name
    total_cost = demo_report(demo).totals.cost_usd
    assert re.search(rf"^total\s.*\${total_cost:.4f}", out, re.MULTILINE)
    assert "overlap" in out and "critical path" in out and "efficiency" not in out


def test_run_id_prefix_ambiguity_and_unknown_ids(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo()
    write_run(repo, "20260101-120000-aaaaaa", two_agent_run(2.0), NEEDS)
    write_run(repo, "20260102-120000-bbbbbb", two_agent_run(3.0), NEEDS)
    assert cli_json(capsys, "report", "--repo", str(repo), "--json")["run_id"] == "20260102-120000-bbbbbb"
    assert cli_json(capsys, "report", "20260101", "--repo", str(repo), "--json")["run_id"] == "20260101-120000-aaaaaa"
    code, out, err = cli(capsys, "report", "2026", "--repo", str(repo))
    assert code == 2 and out == ""
    assert "run '2026' is ambiguous" in err
    code, out, err = cli(capsys, "report", "nope", "--repo", str(repo), "--json")
    assert code == 2 and out == ""
    assert "run 'nope' not found" in err and "20260102-120000-bbbbbb" in err  # names the recent runs


def test_a_repo_with_no_runs(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo()
    code, out, err = cli(capsys, "report", "--repo", str(repo), "--json")
    assert code == 2 and out == ""
    assert "no runs in" in err and "autodev demo" in err


def test_report_all_json_across_runs(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo()
    for day, seconds in enumerate([1.0, 2.0, 3.0, 4.0], start=1):
        write_run(repo, f"2026010{day}-120000-aaaaaa", two_agent_run(seconds), NEEDS)
    data = cli_json(capsys, "report", "--all", "--repo", str(repo), "--json")
    assert [run["run_id"] for run in data["runs"]] == [f"2026010{day}-120000-aaaaaa" for day in range(1, 5)]
    assert [run["wall_s"] for run in data["runs"]] == [2.0, 3.0, 4.0, 5.0]
    assert [run["cost_usd"] for run in data["runs"]] == [pytest.approx(0.02)] * 4
    trends = {t["agent"]: t for t in data["agents"]}
    assert trends["planner"]["samples"] == 4
    assert trends["planner"]["p50_s"] == pytest.approx(2.5)
    assert trends["planner"]["p95_s"] == pytest.approx(3.85)
    assert trends["implementer"]["p50_s"] == trends["implementer"]["p95_s"] == 1.0
    code, out, _ = cli(capsys, "report", "--all", "--repo", str(repo))
    assert code == 0 and "4 runs" in out and re.search(r"^planner\s+4\s+2\.50\s+3\.85$", out, re.MULTILINE)


def test_a_run_is_a_bottleneck_against_the_other_runs(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Ten usual runs, then one twice as slow: flagged (its own sample must not raise the bar it is held to)."""
    repo = make_repo()
    for day in range(10):
        write_run(repo, f"202601{day + 10:02d}-120000-aaaaaa", two_agent_run(10.0), NEEDS)
    write_run(repo, "20260201-120000-cccccc", two_agent_run(20.0), NEEDS)
    data = cli_json(capsys, "report", "--repo", str(repo), "--json")
    assert data["bottlenecks"] == ["planner took 20.0s, over 1.5 x its p95 of 10.0s"]
    (repo / ".autodev" / "config.toml").write_text("[time_budgets]\nimplementer = 0.5\n", encoding="utf-8")
    data = cli_json(capsys, "report", "--repo", str(repo), "--json")
    assert "implementer took 1.0s, over its 0.5s budget" in data["bottlenecks"]


# ---------------------------------------------------------------- timelines
def test_timeline_png(demo: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "timeline.png"
    data = cli_json(capsys, "report", "--repo", str(demo.repo), "--timeline", str(target), "--json")
    assert data["timeline"] == str(target)
    raw = target.read_bytes()
    assert raw[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(raw)) as image:
        image.verify()
    with Image.open(target) as image:
        lanes = len(demo.state["agents"])
        assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 34 * lanes
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 16) or []}
    # one colour per tier that ran, and the critical path's red outline
    for hex_colour in ("#4caf50", "#2196f3", "#9c27b0", "#d32f2f"):
        assert tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)) in colours, hex_colour


def test_timeline_html_is_self_contained(demo: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "timeline.html"
    code, out, _ = cli(capsys, "report", "--repo", str(demo.repo), "--timeline", str(target))
    assert code == 0 and f"timeline written to {target}" in out
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "</svg>" in page
    standalone = page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace name, never fetched
    assert not re.search(r"https?://|src=|href=|<link|<script|@import", standalone)
    for name in demo.state["agents"]:
        assert f">{name}</text>" in page
    assert page.count('stroke="#d32f2f"') == len(demo_report(demo).critical_path)


def test_timeline_svg(demo: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "timeline.svg"
    code, _, _ = cli(capsys, "report", "--repo", str(demo.repo), "--timeline", str(target), "--json")
    assert code == 0
    svg = target.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    bars = re.findall(r'<rect x="[\d.]+" y="\d+" width="[\d.]+" height="22"', svg)
    gate_runs = [t for t in demo.kind("timer") if t["name"] == "test_gate"]
    assert len(gate_runs) == demo.state["gate"]["runs"]
    assert len(bars) == len(demo.kind("agent")) + len(gate_runs)  # one per agent run, one per run of the tests


def test_timeline_axis_ticks_are_round_numbers(
    make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo()
    write_run(repo, "20260101-120000-aaaaaa", two_agent_run(100.0, 43.0), NEEDS)
    target = tmp_path / "t.svg"
    assert cli(capsys, "report", "--repo", str(repo), "--timeline", str(target))[0] == 0
    labels = re.findall(r'text-anchor="middle">([^<]+)</text>', target.read_text(encoding="utf-8"))
    assert labels == ["0s", "20s", "40s", "60s", "80s", "100s", "120s", "140s"]


def test_timeline_refuses_a_bad_suffix_and_all_runs(
    demo: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "report", "--repo", str(demo.repo), "--timeline", str(tmp_path / "t.jpg"))
    assert code == 2 and "use a .png, .html or .svg file name" in err
    assert not (tmp_path / "t.jpg").exists()
    code, _, err = cli(capsys, "report", "--all", "--repo", str(demo.repo), "--timeline", str(tmp_path / "t.png"))
    assert code == 2 and "--timeline draws one run" in err
    code, _, err = cli(capsys, "report", "--repo", str(demo.repo), "--timeline", str(tmp_path / "no" / "dir" / "t.svg"))
    assert code == 2 and "cannot write it" in err
