"""Whole feature runs through the real provider adapters, the SDKs pointed at the local fake servers.

The fakes answer by agent and turn (read from each request's system prompt and history), so parallel agents get
the same answers whatever order their requests arrive in. Also: choosing a provider (and the errors when none
is usable), a context window too small for the request, and a provider failing for good.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI
from fakes.server import Error, FakeServer, RecordedRequest, Reply, Scripted, ToolCall
from provider_support import shared_tls_context
from scripts import CALC_FILES, FEATURE_AGENTS, REQUEST, default_replies, git, trust_repo

from autodev.agent.specs import load_agents
from autodev.apps.cli.main import main
from autodev.config.providers import ResilientProvider, build_provider
from autodev.config.settings import CliOverrides, load_settings
from autodev.core.errors import UserError
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.adapters.anthropic import AnthropicProvider
from autodev.models.adapters.openai import OpenAIProvider
from autodev.run.selection.decide import NO_WEB_SEARCH

PROMPTS = {name: spec.prompt for name, spec in load_agents(None).items()}
ANTHROPIC_MODELS = {"fast": "claude-haiku-5-5", "balanced": "claude-sonnet-5-5", "deep": "claude-opus-5-5"}
OPENAI_MODELS = {"fast": "gpt-5-nano", "balanced": "gpt-5-mini", "deep": "gpt-5"}
TIERS = {
    "researcher-local": "fast",
    "researcher-web": "balanced",
    "planner": "balanced",
    "test-master": "balanced",
    "implementer": "balanced",
    "reviewer": "fast",
    "security-auditor": "deep",
    "doc-master": "fast",
}
SEARCH_BLOCKS: list[dict[str, Any]] = [
    {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "python multiply"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_01",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://docs.python.org/3/library/operator.html",
                "title": "operator",
                "encrypted_content": "Eq8kCioIARgBIiQ3",
                "page_age": "3 days ago",
            }
        ],
    },
]


# ---------------------------------------------------------------- answering by agent and turn
def system_text(body: Mapping[str, Any]) -> str:
    if "system" in body:  # Anthropic: a string or text blocks
        system = body["system"]
        return system if isinstance(system, str) else "\n".join(block["text"] for block in system)
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")  # OpenAI


def agent_of(body: Mapping[str, Any]) -> str:
    text = system_text(body)
    found = [name for name, prompt in PROMPTS.items() if prompt in text]
    assert len(found) == 1, f"cannot tell which agent sent this request: {found}"
    return found[0]


def turn_of(body: Mapping[str, Any]) -> int:
    return sum(1 for message in body["messages"] if message["role"] == "assistant")


def as_reply(scripted: Mapping[str, Any]) -> Reply:
    calls = tuple(ToolCall(c["name"], c.get("input", {})) for c in scripted.get("tool_calls", ()))
    return Reply(text=scripted.get("text") or None, tool_calls=calls)


def by_agent(replies: Mapping[str, Sequence[Scripted]]) -> Callable[[RecordedRequest], Scripted]:
    """A responder: the reply for (agent, turn); an agent's last reply answers any later turn."""

    def respond(request: RecordedRequest) -> Scripted:
        script = replies[agent_of(request.body)]
        return script[min(turn_of(request.body), len(script) - 1)]

    return respond


def feature_replies(*, web_search: bool) -> dict[str, list[Scripted]]:
    replies: dict[str, list[Scripted]] = {
        name: [as_reply(r) for r in script[:2]] if name in ("test-master", "implementer") else [as_reply(script[0])]
        for name, script in default_replies().items()
    }
    if web_search:
        notes = "## Findings\n- `operator.mul(a, b)` is the standard library's multiply."
        replies["researcher-web"] = [Reply(notes, extra_blocks=tuple(SEARCH_BLOCKS))]
    return replies


# ---------------------------------------------------------------- reading a run
def state_of(result: RunResult) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    return state


def records(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def assert_costs_add_up(run_dir: Path, state: dict[str, Any]) -> None:
    """state.json's total = the agent records' costs = the call records' costs, and each agent = its calls."""
    agents, calls = records(run_dir, "agent"), records(run_dir, "call")
    ran = [r for r in agents if r["status"] != "skipped"]
    assert all(r["cost_usd"] is not None and r["cost_usd"] > 0 for r in ran + calls)
    assert state["cost_usd"] > 0
    assert state["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in ran), rel=1e-9, abs=1e-12)
    assert state["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in calls), rel=1e-9, abs=1e-12)
    for record in ran:
        own = [c for c in calls if c["agent"] == record["agent"]]
        assert len(own) == record["turns"]
        assert record["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in own), rel=1e-9, abs=1e-12)
        for field in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
            assert record[field] == sum(c[field] for c in own), (record["agent"], field)


def assert_calls_match_the_wire(run_dir: Path, fake: FakeServer, usage_fields: Mapping[str, str]) -> None:
    """Every request the fake answered is one call record, with the tokens the fake reported."""
    calls = records(run_dir, "call")
    assert len(calls) == len(fake.requests)
    assert all(c["status"] == "ok" and c["attempts"] == 1 for c in calls)
    for record_field, wire_field in usage_fields.items():
        reported = sum(_wire_usage(r.response_json["usage"], wire_field) for r in fake.requests)
        assert sum(c[record_field] for c in calls) == reported, record_field


def _wire_usage(usage: Mapping[str, Any], field: str) -> int:
    if field == "prompt-cached":  # OpenAI: prompt_tokens includes the cached part
        return int(usage["prompt_tokens"]) - int(usage["prompt_tokens_details"]["cached_tokens"])
    if field == "cached":
        return int(usage["prompt_tokens_details"]["cached_tokens"])
    return int(usage[field])


def assert_committed_mul(repo: Path, state: dict[str, Any]) -> None:
    assert state["status"] == "done", state.get("error")
    assert state["commit"] and git(repo, "rev-parse", state["branch"]).strip() == state["commit"]
    assert "def mul(a, b):\n    return a * b\n" in git(repo, "show", f"{state['branch']}:calc/__init__.py")
    assert "class MulTests" in git(repo, "show", f"{state['branch']}:tests/test_calc.py")
    assert state["gate"]["status"] == "passed"
    assert state["warnings"] == []  # every model used is in the price table


# ---------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():  # SDK clients are made per test: load the CA bundle once
        yield


@pytest.fixture
def collect_sdk_clients() -> Iterator[None]:
    """A run leaves its provider's async SDK client to the garbage collector. Collect it when the test ends, while
    no event loop runs, so the SDK does not try to close its connections on a later test's loop ("Event loop is
    closed")."""
    yield
    gc.collect()


@pytest.fixture
def calc_repo(make_repo: Any) -> Path:
    repo: Path = make_repo(CALC_FILES)
    return repo


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch, collect_sdk_clients: None) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture
def local_openai(monkeypatch: pytest.MonkeyPatch, collect_sdk_clients: None) -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server (Ollama-like): a base URL and no key."""
    with FakeOpenAI(require_key=False) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        yield fake


# ---------------------------------------------------------------- full runs
def test_a_full_run_through_the_anthropic_adapter(calc_repo: Path, claude: FakeAnthropic) -> None:
    claude.responder = by_agent(feature_replies(web_search=True))
    result = run_feature(REQUEST, calc_repo, CliOverrides(provider="anthropic"))
    state = state_of(result)

    assert_committed_mul(calc_repo, state)
    assert list(state["agents"]) == list(FEATURE_AGENTS)
    for name, agent in state["agents"].items():
        assert agent["status"] == "done", (name, agent["error"])
        assert agent["model"] == ANTHROPIC_MODELS[TIERS[name]]
    assert all(r.status == 200 for r in claude.requests)
    assert {agent_of(r.body) for r in claude.requests} == set(FEATURE_AGENTS)

    # researcher-web ran with the provider's own web search, and nobody else got it
    for request in claude.requests:
        tool_names = [t["name"] for t in request.body.get("tools", [])]
        assert ("web_search" in tool_names) == (agent_of(request.body) == "researcher-web"), tool_names
    assert "operator.mul" in state["agents"]["researcher-web"]["handoff"]
    web_record = next(r for r in records(result.run_dir, "agent") if r["agent"] == "researcher-web")
    assert (web_record["status"], web_record["skip_reason"], web_record["provider"]) == ("done", None, "anthropic")

    # the implementer's second request carried its tool_use / tool_result round trip
    implementer = [r for r in claude.requests if agent_of(r.body) == "implementer"]
    assert [turn_of(r.body) for r in implementer] == [0, 1]
    assert implementer[1].body["messages"][2]["content"][0]["type"] == "tool_result"

    assert_calls_match_the_wire(
        result.run_dir,
        claude,
        {
            "input_tokens": "input_tokens",
            "output_tokens": "output_tokens",
            "cache_read_tokens": "cache_read_input_tokens",
            "cache_write_tokens": "cache_creation_input_tokens",
        },
    )
    calls = records(result.run_dir, "call")
    assert any(c["cache_write_tokens"] > 0 for c in calls)  # prompt caching is on for real prompts
    assert any(c["cache_read_tokens"] > 0 for c in calls)  # and later turns read what earlier ones wrote
    assert_costs_add_up(result.run_dir, state)


def test_a_full_run_through_the_openai_adapter_on_a_local_server(calc_repo: Path, local_openai: FakeOpenAI) -> None:
    local_openai.responder = by_agent(feature_replies(web_search=False))
    result = run_feature(REQUEST, calc_repo, CliOverrides(provider="openai"))
    state = state_of(result)

    assert_committed_mul(calc_repo, state)
    web = state["agents"]["researcher-web"]
    assert web["status"] == "skipped" and NO_WEB_SEARCH in web["reason"]
    assert "no web search available" in web["reason"]
    web_record = next(r for r in records(result.run_dir, "agent") if r["agent"] == "researcher-web")
    assert web_record["status"] == "skipped" and "no web search available" in web_record["skip_reason"]
    for name in set(FEATURE_AGENTS) - {"researcher-web"}:
        assert state["agents"][name]["status"] == "done", name
        assert state["agents"][name]["model"] == OPENAI_MODELS[TIERS[name]]

    sent_by = {agent_of(r.body) for r in local_openai.requests}
    assert sent_by == set(FEATURE_AGENTS) - {"researcher-web"}  # the skipped agent never reached the model
    for request in local_openai.requests:
        assert "max_tokens" in request.body and "max_completion_tokens" not in request.body  # a local server
        assert request.header("authorization") == "Bearer not-needed"

    assert_calls_match_the_wire(
        result.run_dir,
        local_openai,
        {
            "input_tokens": "prompt-cached",
            "output_tokens": "completion_tokens",
            "cache_read_tokens": "cached",
        },
    )
    assert all(c["cache_write_tokens"] == 0 for c in records(result.run_dir, "call"))
    assert_costs_add_up(result.run_dir, state)


def test_autodev_run_with_openai_through_the_cli(
    calc_repo: Path, local_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    local_openai.responder = by_agent(feature_replies(web_search=False))
    code = main(["run", REQUEST, "--repo", str(calc_repo), "--provider", "openai", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    state = json.loads(out)
    assert_committed_mul(calc_repo, state)
    assert state["agents"]["researcher-web"]["status"] == "skipped"
    assert_costs_add_up(calc_repo / ".autodev" / "runs" / state["run_id"], state)


def test_a_provider_that_keeps_failing_fails_the_run_with_its_error(
    calc_repo: Path, claude: FakeAnthropic, tmp_path: Path
) -> None:
    (calc_repo / ".autodev" / "config.toml").write_text(
        CALC_FILES[".autodev/config.toml"] + "max_attempts = 2\n", encoding="utf-8"
    )
    git(calc_repo, "commit", "-qam", "two attempts")  # the run starts from HEAD
    claude.default = Error(529, "Overloaded", headers={"retry-after": "0"})
    result = run_feature(REQUEST, calc_repo, CliOverrides(provider="anthropic"))
    state = state_of(result)

    assert state["status"] == "failed"
    assert "529" in state["error"] and "Overloaded" in state["error"]
    for name in ("researcher-local", "researcher-web"):
        assert state["agents"][name]["status"] == "failed"
        assert "anthropic API error 529" in state["agents"][name]["error"]
    assert state["agents"]["planner"]["status"] in ("cancelled", "pending")
    calls = records(result.run_dir, "call")
    assert len(calls) == 2 and all((c["status"], c["attempts"]) == ("error", 2) for c in calls)
    assert len(claude.requests) == 4


# ---------------------------------------------------------------- the context window
def test_a_request_larger_than_the_context_window_is_refused_before_sending(
    make_repo: Any, claude: FakeAnthropic
) -> None:
    config = CALC_FILES[".autodev/config.toml"] + '[prices."tiny"]\ninput = 1.0\noutput = 2.0\ncontext_window = 50\n'
    repo: Path = make_repo({**CALC_FILES, ".autodev/config.toml": config})
    tiny = tuple(f"{tier}=tiny" for tier in ("fast", "balanced", "deep"))
    result = run_feature(REQUEST, repo, CliOverrides(provider="anthropic", models=tiny))
    state = state_of(result)

    assert claude.requests == []  # nothing was sent, so nothing was paid for
    assert state["status"] == "failed"
    error = state["agents"]["researcher-local"]["error"]
    assert "context window of 50 tokens" in error and "tiny" in error
    assert "input tokens" in error and "8,192 for the reply" in error
    assert records(result.run_dir, "call") == []
    assert "context window" in state["error"]


# ---------------------------------------------------------------- choosing a provider
def test_anthropic_without_a_key_is_a_user_error_that_says_what_to_set(
    calc_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # a base URL is not a key
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY") as excinfo:
        run_feature(REQUEST, calc_repo, CliOverrides(provider="anthropic"))
    assert excinfo.value.hint is not None and "ANTHROPIC_API_KEY" in excinfo.value.hint
    assert "autodev demo" in excinfo.value.hint

    assert main(["run", REQUEST, "--repo", str(calc_repo), "--provider", "anthropic"]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert not (calc_repo / ".autodev" / "runs").exists()  # nothing was written


def test_openai_with_neither_key_nor_base_url_is_a_user_error(
    calc_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UserError) as excinfo:
        run_feature(REQUEST, calc_repo, CliOverrides(provider="openai"))
    assert "OPENAI_API_KEY" in str(excinfo.value) and "OPENAI_BASE_URL" in str(excinfo.value)
    assert main(["run", REQUEST, "--repo", str(calc_repo), "--provider", "openai"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY" in err and "OPENAI_BASE_URL" in err
    assert not (calc_repo / ".autodev" / "runs").exists()


def test_no_provider_at_all_names_every_way_to_configure_one(
    calc_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", REQUEST, "--repo", str(calc_repo)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    for words in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", ".autodev/config.toml", "--provider"):
        assert words in err, words
    assert "autodev demo" in err
    assert not (calc_repo / ".autodev" / "runs").exists()


def test_the_provider_is_detected_from_the_environment(calc_repo: Path) -> None:
    both = {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}
    provider = build_provider(load_settings(calc_repo, env=both), env=both)
    assert isinstance(provider, ResilientProvider) and isinstance(provider.inner, AnthropicProvider)
    assert provider.name == "anthropic" and provider.web_search is True

    local = {"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}
    provider = build_provider(load_settings(calc_repo, env=local), env=local)
    assert isinstance(provider.inner, OpenAIProvider) and provider.inner.official_api is False
    assert provider.name == "openai" and provider.web_search is False

    configured = {"ANTHROPIC_API_KEY": "a"}
    settings = load_settings(calc_repo, CliOverrides(provider="openai"), env=configured)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):  # --provider wins over detection, and needs its key
        build_provider(settings, env=configured)


def test_provider_settings_reach_the_adapter_and_the_limiter(calc_repo: Path) -> None:
    (calc_repo / ".autodev" / "config.toml").write_text(
        "request_timeout_s = 12.5\nmax_attempts = 7\nmax_concurrent_requests = 3\n"
        'requests_per_minute = 50\ntokens_per_minute = 40000\nbase_url = "http://127.0.0.1:9/v1"\n',
        encoding="utf-8",
    )
    trust_repo(calc_repo)  # base_url decides where the key goes: the user approves it
    env = {"OPENAI_API_KEY": "k"}
    provider = build_provider(load_settings(calc_repo, CliOverrides(provider="openai"), env=env), env=env)
    assert isinstance(provider.inner, OpenAIProvider)
    assert provider.inner.timeout_s == 12.5 and provider.inner.base_url == "http://127.0.0.1:9/v1"
    assert provider.policy.max_attempts == 7
    assert provider.limiter._slots is not None and provider.limiter._slots.total_tokens == 3
    assert (provider.limiter._rpm, provider.limiter._tpm) == (50, 40000)
