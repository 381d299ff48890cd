"""Provider faults (issue #9): whole feature runs survive faults injected at 30 %, and a provider that stays down
fails the run with its own error.

The fake servers inject seeded faults (`fakes.faults.FaultPlan`) into a fraction of requests: 429 with retry-after,
529/503, 500, timeouts, dropped connections, bodies cut short, tool calls with invalid arguments or to unknown
tools, and replies cut off at max_tokens. The responder answers by agent and *real* turn (the model's injected
mistakes do not count), so after a fault the model does what it would have done anyway: every run must end `done`
with the diff of a fault-free run, each transport fault costing one retry and each model mistake one turn.
Retries back off for milliseconds here (the policy is scaled down), except where a 429 says how long to wait.

The module's totals (runs, calls, requests, faults per kind) are collected in FIGURES; with
AUTODEV_FAULT_FIGURES=PATH they are written to PATH as JSON when the module ends.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes.anthropic import FakeAnthropic
from fakes.faults import ALL_KINDS, CUT_OFF_TEXT, FAULT_ID_MARK, MODEL_KINDS, TRANSPORT_KINDS, FaultPlan, real_turn
from fakes.openai import FakeOpenAI
from fakes.server import FakeServer, RecordedRequest, Reply, Scripted, ToolCall
from provider_support import SpyTool, run_one_agent, shared_tls_context
from scripts import CALC_FILES, REQUEST, git, settle
from test_providers_e2e import agent_of, assert_committed_mul, assert_costs_add_up, feature_replies, records

from autodev.agent.runtime import CUT_OFF_MARK, CUT_OFF_NOTE
from autodev.apps.cli.main import main
from autodev.config.providers import ResilientProvider
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models import Message, ModelRequest, TextPart
from autodev.models import ToolCall as ModelToolCall
from autodev.models.adapters.anthropic import AnthropicProvider
from autodev.models.adapters.openai import OpenAIProvider, build_params
from autodev.models.resilience import ProviderLimiter, RetryPolicy
from autodev.tools.arguments import argument_problems, describe_parameters

RATE = 0.3
SEEDS = (1, 2, 3, 4)  # four runs per provider; together they draw every kind of fault for both
TIMEOUT_S = 1.0  # the client's timeout per attempt; a `timeout` fault holds its answer longer
RETRY_AFTER = 0.05  # what an injected 429 says; the scaled-down backoff never waits that long
POLICY = RetryPolicy(max_attempts=6, base_delay_s=0.004, max_delay_s=0.02)
FAKES: dict[str, type[FakeServer]] = {"anthropic": FakeAnthropic, "openai": FakeOpenAI}
FIGURES: Counter[str] = Counter()


@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():  # SDK clients are made per run: load the CA bundle once
        yield


@pytest.fixture(autouse=True, scope="module")
def _figures() -> Iterator[None]:
    yield
    target = os.environ.get("AUTODEV_FAULT_FIGURES")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n", encoding="utf-8")


@pytest.fixture(params=["anthropic", "openai"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------- a run against a faulty fake
def by_real_turn(replies: Mapping[str, Sequence[Scripted]]) -> Callable[[RecordedRequest], Scripted]:
    """The reply for (agent, the model's own turns so far): an injected mistake does not move the script on."""

    def respond(request: RecordedRequest) -> Scripted:
        script = replies[agent_of(request.body)]
        return script[min(real_turn(request.body), len(script) - 1)]

    return respond


def agent_turn(request: RecordedRequest) -> str:
    """The fault plan's key: the same faults whatever order parallel agents' requests arrive in."""
    return f"{agent_of(request.body)}:{real_turn(request.body)}"


@dataclass
class FaultRun:
    repo: Path
    state: dict[str, Any]
    run_dir: Path
    requests: list[RecordedRequest]
    sleeps: list[float]
    plan: FaultPlan | None

    @property
    def diff(self) -> str:
        return git(self.repo, "diff", "HEAD", self.state["branch"])

    @property
    def calls(self) -> list[dict[str, Any]]:
        return records(self.run_dir, "call")

    def injected(self, kinds: Sequence[str]) -> int:
        return sum(self.plan.injected[k] for k in kinds) if self.plan else 0


def feature_run(kind: str, make_repo: Any, plan: FaultPlan | None, name: str) -> FaultRun:
    repo: Path = make_repo(CALC_FILES, name=name)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await anyio.sleep(seconds)

    fake = FAKES[kind](responder=by_real_turn(feature_replies(web_search=kind == "anthropic")), faults=plan)
    if isinstance(fake, FakeOpenAI):
        fake.require_key = False  # a local OpenAI-compatible server
    with fake:
        inner: Any = (
            AnthropicProvider(api_key="sk-ant-test", base_url=fake.base_url, timeout_s=TIMEOUT_S)
            if kind == "anthropic"
            else OpenAIProvider(base_url=fake.base_url, timeout_s=TIMEOUT_S)
        )
        provider = ResilientProvider(inner, ProviderLimiter(), POLICY, sleep)
        result = run_feature(REQUEST, repo, CliOverrides(provider=kind), provider=provider)
        requests = fake.requests
    state: dict[str, Any] = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    run = FaultRun(repo, state, result.run_dir, requests, sleeps, plan)
    FIGURES["runs"] += 1
    FIGURES["runs_done"] += state["status"] == "done"
    FIGURES["calls"] += len(run.calls)
    FIGURES["requests"] += len(requests)
    if plan is not None:
        FIGURES["runs_with_faults"] += 1
        for fault, count in plan.injected.items():
            FIGURES[f"injected.{fault}"] += count
        FIGURES["injected"] += plan.total
    return run


def injected_call_ids(requests: Sequence[RecordedRequest]) -> set[str]:
    """The ids of the tool calls the fake injected (read from its answers)."""
    ids: set[str] = set()
    for request in requests:
        body = request.response_json or {}
        blocks = body.get("content") or []  # Anthropic
        for choice in body.get("choices") or []:  # OpenAI
            blocks = [{**call, "type": "tool_use"} for call in choice["message"].get("tool_calls") or []]
        ids.update(b["id"] for b in blocks if b.get("type") == "tool_use" and FAULT_ID_MARK in b["id"])
    return ids


def tool_results_for_faults(requests: Sequence[RecordedRequest]) -> dict[str, str]:
    """What the model was told about each injected tool call: id -> result text (errors only, Anthropic)."""
    told: dict[str, str] = {}
    for request in requests:
        for message in request.body["messages"]:
            content = message.get("content")
            if message["role"] == "tool" and FAULT_ID_MARK in message["tool_call_id"]:  # OpenAI
                told[message["tool_call_id"]] = content
            for block in content if isinstance(content, list) else []:  # Anthropic
                if block.get("type") == "tool_result" and FAULT_ID_MARK in block["tool_use_id"]:
                    assert block["is_error"] is True
                    told[block["tool_use_id"]] = block["content"]
    return told


def assert_survived(run: FaultRun, baseline: FaultRun) -> None:
    plan = run.plan
    assert plan is not None
    assert run.state["status"] == "done", (run.state.get("error"), plan.log)
    assert_committed_mul(run.repo, run.state)
    assert run.diff == baseline.diff  # the faults changed nothing the user gets
    assert_costs_add_up(run.run_dir, run.state)

    calls = run.calls
    assert all(c["status"] == "ok" for c in calls)
    attempts = sum(c["attempts"] for c in calls)
    assert attempts == len(run.requests)  # every request the fake saw is an attempt of some call
    assert attempts - len(calls) == run.injected(TRANSPORT_KINDS)  # each transport fault: one retry
    assert len(calls) == len(baseline.calls) + run.injected(MODEL_KINDS)  # each model mistake: one more turn
    assert len(run.sleeps) == run.injected(TRANSPORT_KINDS)
    assert run.sleeps.count(RETRY_AFTER) == plan.injected["rate_limit"]  # a 429's retry-after, waited exactly

    # every injected tool call was answered with an error the model could act on, and never run
    injected = injected_call_ids(run.requests)
    assert len(injected) == run.injected(("invalid_arguments", "unknown_tool"))
    told = tool_results_for_faults(run.requests)
    assert set(told) == injected
    assert all(text.startswith("Error: ") for text in told.values())
    # every cut-off reply was followed by a request for a complete one, and no handoff is cut off
    sessions = [p.read_text(encoding="utf-8") for p in (run.run_dir / "sessions").glob("*.md")]
    assert sum(s.count("asked for a complete one") for s in sessions) == plan.injected["cut_off"]
    assert not any(CUT_OFF_TEXT in (agent["handoff"] or "") for agent in run.state["agents"].values())
    FIGURES["runs_with_faults_done_same_diff"] += 1


# ---------------------------------------------------------------- the fault plan itself
def test_a_keyed_fault_plan_draws_the_same_faults_whatever_the_arrival_order() -> None:
    keys = [f"agent-{a}:{t}" for a in range(6) for t in range(3)] * 3  # each key asked three times

    def drawn(order: Sequence[str]) -> dict[tuple[str, int], str | None]:
        plan = FaultPlan(0.5, seed=4, key=lambda request: request.path)
        seen: Counter[str] = Counter()
        out: dict[tuple[str, int], str | None] = {}
        for key in order:
            seen[key] += 1
            result = plan.draw(RecordedRequest("POST", key, "", {}, b""), offers_tools=True)
            out[(key, seen[key])] = result[0] if result else None
        return out

    forward = drawn(keys)
    assert forward == drawn(list(reversed(keys)))  # the n-th request for a key gets the same answer
    assert 0.3 <= sum(kind is not None for kind in forward.values()) / len(forward) <= 0.7


def test_tool_faults_only_where_tools_are_offered_and_counted() -> None:
    plan = FaultPlan(1.0, kinds=("unknown_tool", "invalid_arguments", "cut_off"), seed=1)
    request = RecordedRequest("POST", "/v1/messages", "", {}, b"")
    kinds = [plan.draw(request, offers_tools=False) for _ in range(20)]
    assert {k[0] for k in kinds if k} == {"cut_off"}
    assert plan.counts() == {"unknown_tool": 0, "invalid_arguments": 0, "cut_off": 20} and plan.total == 20
    assert FaultPlan(1.0, kinds=("unknown_tool",)).draw(request, offers_tools=False) is None
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan(0.3, kinds=("gremlins",))
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        FaultPlan(1.5)


# ---------------------------------------------------------------- whole runs
def test_feature_runs_survive_faults_injected_at_30_percent(kind: str, make_repo: Any) -> None:
    baseline = feature_run(kind, make_repo, None, "baseline")
    assert baseline.state["status"] == "done", baseline.state.get("error")
    assert all(c["attempts"] == 1 for c in baseline.calls) and baseline.sleeps == []

    injected: Counter[str] = Counter()
    requests = 0
    for seed in SEEDS:
        plan = FaultPlan(RATE, seed=seed, key=agent_turn, retry_after=str(RETRY_AFTER), timeout_s=10 * TIMEOUT_S)
        run = feature_run(kind, make_repo, plan, f"seed-{seed}")
        assert_survived(run, baseline)
        injected.update(plan.injected)
        requests += plan.requests
    assert 0.2 <= injected.total() / requests <= 0.4  # about the rate asked for
    assert set(injected) == set(ALL_KINDS), injected  # every kind was injected, and survived


@pytest.mark.parametrize(
    ("kind", "fault", "words"),
    [("anthropic", "overloaded", ("529", "Overloaded")), ("openai", "server_error", ("500", "server had an error"))],
)
def test_a_provider_down_for_good_fails_the_run_with_its_error(
    kind: str, fault: str, words: tuple[str, ...], make_repo: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = CALC_FILES[".autodev/config.toml"] + "max_attempts = 2\n"
    repo: Path = make_repo({**CALC_FILES, ".autodev/config.toml": config})
    settle(repo)
    before = checkout(repo)
    plan = FaultPlan(1.0, kinds=(fault,))
    with FAKES[kind](faults=plan) as fake:
        if kind == "anthropic":
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
            monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        else:
            monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
            monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        code = main(["run", REQUEST, "--repo", str(repo), "--provider", kind, "--json"])
        requests = fake.requests
    out = capsys.readouterr().out

    assert code == 1
    state = json.loads(out)
    run_dir = repo / ".autodev" / "runs" / state["run_id"]
    assert json.loads((run_dir / "state.json").read_text(encoding="utf-8"))["error"] == state["error"]
    assert state["status"] == "failed"
    assert all(word in state["error"] for word in words), state["error"]
    failed = [name for name, agent in state["agents"].items() if agent["status"] == "failed"]
    assert failed and all(f"{kind} API error {words[0]}" in state["agents"][n]["error"] for n in failed)
    assert state["agents"]["implementer"]["status"] in ("pending", "cancelled")  # nothing after them ran
    calls = records(run_dir, "call")
    assert calls and all((c["status"], c["attempts"]) == ("error", 2) for c in calls)
    assert len(requests) == 2 * len(calls) == plan.injected[fault]
    assert checkout(repo) == before  # the user's checkout, index and HEAD are as they were
    FIGURES["runs"] += 1
    FIGURES["runs_down_failed_cleanly"] += 1
    FIGURES["requests"] += len(requests)


def checkout(repo: Path) -> dict[str, Any]:
    """The user's side of the repository: files outside .git and .autodev, the index, HEAD and status."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] not in (".git", ".autodev")
    }
    return {
        "files": files,
        "config": (repo / ".autodev" / "config.toml").read_bytes(),
        "index": (repo / ".git" / "index").read_bytes(),
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
    }


# ---------------------------------------------------------------- one agent: the model's own faults
def single_agent(kind: str, tmp_path: Path, replies: Sequence[Scripted], **kwargs: Any) -> tuple[Any, FakeServer]:
    with FAKES[kind]() as fake:
        fake.enqueue(*replies)
        if kind == "anthropic":
            provider: Any = AnthropicProvider(api_key="sk-ant-test", base_url=fake.base_url, timeout_s=TIMEOUT_S)
            model = provider.model("claude-haiku-5-5")
        else:
            provider = OpenAIProvider(api_key="k", base_url=fake.base_url, timeout_s=TIMEOUT_S)
            model = provider.model("gpt-5-nano")
        run = run_one_agent(model, tmp_path, close=[provider], **kwargs)
    return run, fake


def test_a_model_that_never_stops_calling_tools_ends_at_max_turns(kind: str, tmp_path: Path) -> None:
    looping = Reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})])
    run, fake = single_agent(kind, tmp_path, [looping] * 4, max_turns=4)

    assert not run.outcome.ok
    assert run.outcome.error == "did not finish within max_turns=4"
    assert len(fake.requests) == 4 and run.outcome.turns == 4
    assert all(r.body.get("tools") for r in fake.requests[:3])
    assert not fake.requests[3].body.get("tools")  # the last turn offered none and asked for the handoff


def test_a_reply_cut_off_at_max_tokens_is_asked_for_again(kind: str, tmp_path: Path) -> None:
    stop = FAKES[kind].cut_off_stop_reason
    cut = Reply(text="## Findings\n- greet() concat", stop_reason=stop)
    run, fake = single_agent(kind, tmp_path, [cut, Reply("## Findings\n- greet() concatenates.")], max_tokens=64)

    assert run.outcome.ok and run.outcome.handoff == "## Findings\n- greet() concatenates."
    assert run.outcome.turns == 2
    asked = fake.requests[1].body["messages"][-1]
    text = asked["content"] if isinstance(asked["content"], str) else asked["content"][0]["text"]
    assert text == CUT_OFF_NOTE.format(max_tokens=64)


def test_replies_cut_off_again_and_again_are_taken_marked(kind: str, tmp_path: Path) -> None:
    cut = Reply(text="## Findings\n- greet()", stop_reason=FAKES[kind].cut_off_stop_reason)
    run, fake = single_agent(kind, tmp_path, [cut] * 3 + [Reply("never asked for")], max_tokens=64)

    assert run.outcome.ok and len(fake.requests) == 3  # asked twice, then took the third as it was
    assert run.outcome.handoff == "## Findings\n- greet()\n\n" + CUT_OFF_MARK.format(max_tokens=64)
    assert fake.pending == 1


def test_a_tool_call_cut_off_at_max_tokens_is_not_run(kind: str, tmp_path: Path) -> None:
    spy = SpyTool()
    stop = FAKES[kind].cut_off_stop_reason
    cut = Reply(tool_calls=[ToolCall("Spy", {"path": "a.py"}), ToolCall("Spy", {"path": "b.py"})], stop_reason=stop)
    run, fake = single_agent(kind, tmp_path, [cut, Reply("## Done")], tools=(), extra_tools={"Spy": spy})

    assert run.outcome.ok and spy.calls == [{"path": "a.py"}]  # the complete call ran, the cut-off one did not
    results = fake.requests[1].body["messages"]
    last = results[-1]["content"] if kind == "openai" else results[-1]["content"][-1]["content"]
    assert last.startswith("Error: this call was cut off at the output limit")


def test_arguments_that_do_not_fit_the_schema_are_an_error_the_model_can_fix(kind: str, tmp_path: Path) -> None:
    wrong = Reply(tool_calls=[ToolCall("Read", {"path": "src/greet.py", "offset": "2"})])
    right = Reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py", "offset": 2})])
    run, fake = single_agent(kind, tmp_path, [wrong, right, Reply("## Done")])

    assert run.outcome.ok and run.outcome.turns == 3
    told = fake.requests[1].body["messages"][-1]
    text = told["content"] if kind == "openai" else told["content"][0]["content"]
    assert text == (
        "Error: invalid arguments for Read: missing required argument 'file_path'; unknown argument 'path'; "
        "'offset' must be of type integer, not string. Call Read again with its parameters: "
        "file_path (string, required), offset (integer), limit (integer)."
    )
    read = fake.requests[2].body["messages"][-1]
    assert "Hello" in (read["content"] if kind == "openai" else read["content"][0]["content"])


BASH_LIKE = {
    "type": "object",
    "properties": {
        "command": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "timeout_s": {"type": "number"},
        "note": {"type": ["string", "null"]},
    },
    "required": ["command"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        ({"command": "ls"}, []),
        ({"command": ["git", "log"], "timeout_s": 2.5, "note": None}, []),
        ({"command": "ls", "timeout_s": 3}, []),  # an integer is a number
        ({"command": 7}, ["'command' must be of type string or array, not integer"]),
        ({"command": "ls", "timeout_s": True}, ["'timeout_s' must be of type number, not boolean"]),
        ({"cmd": "ls"}, ["missing required argument 'command'", "unknown argument 'cmd'"]),
    ],
)
def test_argument_problems(args: dict[str, Any], problems: list[str]) -> None:
    assert argument_problems(BASH_LIKE, args) == problems
    assert describe_parameters(BASH_LIKE) == (
        "command (string or array, required), timeout_s (number), note (string or null)"
    )


def test_an_unknown_tool_is_an_error_the_model_can_fix(kind: str, tmp_path: Path) -> None:
    replies = [Reply(tool_calls=[ToolCall("RunShellCommand", {"command": "ls"})]), Reply("## Done")]
    run, fake = single_agent(kind, tmp_path, replies)

    assert run.outcome.ok
    told = fake.requests[1].body["messages"][-1]
    text = told["content"] if kind == "openai" else told["content"][0]["content"]
    assert text == "Error: unknown tool 'RunShellCommand'; available: Read"


# ---------------------------------------------------------------- OpenAI: the arguments the model wrote, echoed
@pytest.mark.parametrize(
    ("official", "raw", "echoed"),
    [
        (True, '{"path": "a.py", ', '{"path": "a.py", '),  # OpenAI's API: verbatim, even when it is not JSON
        (True, '{"path":"a.py"}', '{"path":"a.py"}'),  # and byte for byte when it is
        (False, '{"path":"a.py"}', '{"path":"a.py"}'),
        (False, '{"path": "a.py", ', "{}"),  # a local server may refuse a history that is not JSON (llama.cpp: 500)
    ],
)
def test_openai_tool_arguments_are_echoed_as_the_model_wrote_them(official: bool, raw: str, echoed: str) -> None:
    call = ModelToolCall("call_1", "Spy", {} if raw.endswith(" ") else {"path": "a.py"}, raw_arguments=raw)
    conversation = (Message("user", (TextPart("go"),)), Message("assistant", (call,)))
    params = build_params(ModelRequest("implementer", "sys", conversation), "gpt-5", official_api=official)
    assert params["messages"][-1]["tool_calls"][0]["function"]["arguments"] == echoed


def test_an_invalid_argument_string_reaches_the_next_request_verbatim(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.reply(tool_calls=[ToolCall("Read", raw_arguments='{"file_path": "src/gr')]).reply("## Done")
        provider = OpenAIProvider(api_key="k", base_url=fake.base_url)
        model = provider.model("gpt-5-nano")
        model.official_api = True  # as against api.openai.com
        run = run_one_agent(model, tmp_path, close=[provider])
    assert run.outcome.ok
    sent = fake.requests[1].body["messages"]
    assert sent[-2]["tool_calls"][0]["function"]["arguments"] == '{"file_path": "src/gr'
    assert sent[-1]["content"].startswith("Error: the arguments were not valid JSON")
