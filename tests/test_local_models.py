"""Local model servers done right (issue 21 item 2, issue 20 item 6), through the official SDKs against loopback
servers that speak the wire protocols: the tiers a non-official base URL needs (its `/v1/models` listed), the context
window learnt from the server (`/v1/models`, llama.cpp's `/props`, Ollama's `/api/show`), a context-length refusal
told apart and never re-sent, the queue time kept apart from model time, llama.cpp's cached tokens, clean provider
errors, `autodev doctor`'s window line, and a run whose implementer changed nothing failing with its reason.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakes.openai import FakeOpenAI
from fakes.server import ToolCall
from provider_support import FakeClock, close_clients, run_one_agent, shared_tls_context
from rich.console import Console
from scripts import CALC_FILES, REQUEST, call, feature_script, final, implemented, tools

from autodev.apps.cli.main import main
from autodev.apps.cli.progress import ProgressPrinter
from autodev.apps.setup.model_checks import provider_checks
from autodev.config.settings import CliOverrides, load_settings
from autodev.core.records import agent_record, call_record, parse_lines
from autodev.core.usage import Usage
from autodev.engines.local.launch import run_feature
from autodev.models import Message, ModelRequest, ModelResponse, ProviderError, TextPart, ToolDefinition, server_info
from autodev.models.adapters.openai import OpenAIProvider
from autodev.models.adapters.sdk_errors import ContextWindowExceeded
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.models.resilience import LimitedModel, ProviderLimiter, RetryingModel
from autodev.models.server_info import learn_window, list_models, served_window
from autodev.run.events import RunEvent
from autodev.run.report import run_report
from autodev.run.state import AgentState, RunState

LOCAL_MODELS = ("qwen2.5-coder:7b", "llama3.1:8b")
TIER_VARIABLES = ("AUTODEV_MODEL_FAST", "AUTODEV_MODEL_BALANCED", "AUTODEV_MODEL_DEEP")
# llama.cpp's refusal of a prompt larger than its slot's context (tools/server/utils.hpp, format_error_response)
LLAMA_CPP_OVERFLOW = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 5120,
        "n_ctx": 4096,
    }
}


@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():
        yield


@pytest.fixture(autouse=True)
def _fresh_answers() -> Iterator[None]:
    server_info.forget()  # each test's server is new: nothing learnt from another one's port
    yield
    server_info.forget()


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """An Ollama-like server: a base URL, no key, models with local names."""
    with FakeOpenAI(require_key=False) as fake:
        fake.serve_models(*LOCAL_MODELS)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture
def repo(make_repo: Any) -> Path:
    path: Path = make_repo(CALC_FILES)
    return path


# ---------------------------------------------------------------- the tiers a local server needs
def test_a_local_server_with_the_default_tiers_is_a_one_line_error_listing_its_models(
    repo: Path, ollama: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", REQUEST, "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert f"OPENAI_BASE_URL={ollama.base_url}" in first and "gpt-5-nano" in first  # what it would have asked for
    assert "it serves: qwen2.5-coder:7b, llama3.1:8b" in first
    assert '[tiers]\n    fast = "qwen2.5-coder:7b"\n    balanced = "llama3.1:8b"' in err  # lines to paste
    assert "Traceback" not in err and not (repo / ".autodev" / "runs").exists()
    assert [r.path for r in ollama.metadata_requests] == ["/v1/models"] and not ollama.requests


def test_tiers_that_name_the_servers_models_plan_as_usual(
    repo: Path, ollama: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in TIER_VARIABLES:
        monkeypatch.setenv(variable, LOCAL_MODELS[0])
    assert main(["plan", REQUEST, "--repo", str(repo)]) == 0, capsys.readouterr().err
    assert LOCAL_MODELS[0] in capsys.readouterr().out


def test_an_unreachable_server_is_said_to_be_unreachable(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["plan", REQUEST, "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "no answer from http://127.0.0.1:9/v1/models" in err and "is the server running?" in err
    assert 'fast = "MODEL"' in err


# ---------------------------------------------------------------- the context window, as the server says
def test_the_window_is_read_from_vllms_model_entry(ollama: FakeOpenAI) -> None:
    ollama.serve_models({"id": "Qwen/Qwen2.5-Coder-7B-Instruct", "object": "model", "max_model_len": 32768})
    learnt = learn_window("openai", ollama.base_url, "Qwen/Qwen2.5-Coder-7B-Instruct", None)
    assert learnt is not None and learnt.tokens == 32768 and "/v1/models" in learnt.source
    assert list_models("openai", ollama.base_url, None).models == ("Qwen/Qwen2.5-Coder-7B-Instruct",)


def test_the_window_is_read_from_llama_cpps_props(ollama: FakeOpenAI) -> None:
    ollama.metadata[("GET", "/props")] = {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}
    learnt = learn_window("openai", ollama.base_url, LOCAL_MODELS[0], None)
    assert learnt is not None and (learnt.tokens, learnt.source) == (4096, "llama.cpp GET /props n_ctx")


def test_the_window_is_read_from_ollamas_show(ollama: FakeOpenAI) -> None:
    asked: list[Any] = []

    def show(request: Any) -> dict[str, Any]:
        asked.append(request.body)
        if request.body["model"] == LOCAL_MODELS[0]:
            return {"parameters": 'num_ctx                        16384\nstop "<|im_end|>"', "model_info": {}}
        return {"model_info": {"general.architecture": "llama", "llama.context_length": 131072}}

    ollama.metadata[("POST", "/api/show")] = show
    first = learn_window("openai", ollama.base_url, LOCAL_MODELS[0], None)
    second = learn_window("openai", ollama.base_url, LOCAL_MODELS[1], None)
    assert first is not None and (first.tokens, first.source) == (16384, "Ollama POST /api/show num_ctx")
    assert second is not None and second.tokens == 131072 and "llama.context_length" in second.source
    assert [body["model"] for body in asked] == list(LOCAL_MODELS)


def test_the_window_is_read_from_lm_studios_own_api(ollama: FakeOpenAI) -> None:
    entry = {"id": LOCAL_MODELS[0], "type": "llm", "state": "loaded", "max_context_length": 32768}
    ollama.metadata[("GET", "/api/v0/models")] = {"data": [{**entry, "loaded_context_length": 12288}]}
    learnt = learn_window("openai", ollama.base_url, LOCAL_MODELS[0], None)
    assert learnt is not None and (learnt.tokens, learnt.source) == (
        12288,
        "LM Studio GET /api/v0/models loaded_context_length",
    )


def test_a_model_ollama_has_loaded_has_the_window_it_runs_with(ollama: FakeOpenAI) -> None:
    loaded = {"name": LOCAL_MODELS[0], "model": LOCAL_MODELS[0], "size_vram": 5_000_000_000, "context_length": 8192}
    ollama.metadata[("GET", "/api/ps")] = {"models": [loaded]}
    ollama.metadata[("POST", "/api/show")] = {"model_info": {"qwen2.context_length": 32768}}  # trained, not run
    learnt = learn_window("openai", ollama.base_url, LOCAL_MODELS[0], None)
    assert learnt is not None and learnt.tokens == 8192 and "/api/ps" in learnt.source


def test_a_run_asks_the_server_through_however_the_provider_is_wrapped(ollama: FakeOpenAI) -> None:
    ollama.metadata[("GET", "/props")] = {"default_generation_settings": {"n_ctx": 8192}}
    adapter = OpenAIProvider(base_url=ollama.base_url)
    official = OpenAIProvider(api_key="k")

    @dataclass
    class Wrapped:
        inner: Any

    async def main() -> tuple[int | None, int | None]:
        try:
            return await served_window(Wrapped(adapter), LOCAL_MODELS[0]), await served_window(official, "gpt-5")
        finally:
            await close_clients([adapter, official])

    assert anyio.run(main) == (8192, None)  # the official API is never asked: its windows are in the price table


def test_max_tokens_is_fitted_into_a_learnt_window(ollama: FakeOpenAI, tmp_path: Path) -> None:
    ollama.reply("done")
    adapter = OpenAIProvider(base_url=ollama.base_url)
    run = run_one_agent(adapter.model(LOCAL_MODELS[0]), tmp_path, context_window=4096, max_tokens=8192, close=[adapter])
    assert run.outcome.ok
    assert 1024 <= ollama.last_request.body["max_tokens"] < 4096


# ---------------------------------------------------------------- a context-length stop
def test_a_context_overflow_is_told_apart_and_sent_once(ollama: FakeOpenAI, tmp_path: Path) -> None:
    ollama.error(400, body=LLAMA_CPP_OVERFLOW)
    adapter = OpenAIProvider(base_url=ollama.base_url)
    model = RetryingModel(adapter.model(LOCAL_MODELS[0]))
    run = run_one_agent(model, tmp_path, close=[adapter])
    error = run.outcome.error or ""
    assert not run.outcome.ok and len(ollama.requests) == 1  # not retried, not re-sent whole
    assert "does not fit the model's context window of 4,096 tokens" in error
    assert "exceeds the available context size" in error and "Error code" not in error
    assert "llama-server -c" in error


def test_vllms_overflow_wording_is_recognised(ollama: FakeOpenAI) -> None:
    said = (
        "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens (808 in the "
        "messages, 8192 in the completion). Please reduce the length of the messages or completion."
    )
    ollama.error(400, said)
    with pytest.raises(ContextWindowExceeded, match="maximum context length is 4096"):
        complete(OpenAIProvider(base_url=ollama.base_url))


# ---------------------------------------------------------------- errors said once, connection errors with the URL
def complete(adapter: OpenAIProvider, model: str = LOCAL_MODELS[0]) -> ModelResponse:
    request = ModelRequest("planner", "You plan.", (Message("user", (TextPart("hello"),)),), max_tokens=64)

    async def main() -> ModelResponse:
        try:
            response: ModelResponse = await adapter.model(model).complete(request)
            return response
        finally:
            await close_clients([adapter])

    return anyio.run(main)


def test_a_provider_error_says_the_servers_words_once(ollama: FakeOpenAI) -> None:
    ollama.error(400, "tools param requires --jinja flag")
    with pytest.raises(ProviderError) as caught:
        complete(OpenAIProvider(base_url=ollama.base_url))
    assert str(caught.value) == "openai API error 400: tools param requires --jinja flag"


def test_a_connection_error_names_the_url_and_what_to_check() -> None:
    with pytest.raises(ProviderError) as caught:
        complete(OpenAIProvider(base_url="http://127.0.0.1:9/v1", timeout_s=5))
    text = str(caught.value)
    assert "http://127.0.0.1:9/v1/chat/completions" in text and "server is running" in text
    assert "OPENAI_BASE_URL" in text and caught.value.retryable


# ---------------------------------------------------------------- cached tokens and queue time
def test_llama_cpps_cached_prompt_is_counted_as_cache_read_not_one_input_token(ollama: FakeOpenAI) -> None:
    timings = {"cache_n": 3000, "prompt_n": 1, "prompt_ms": 5.0, "predicted_n": 7, "predicted_ms": 90.0}
    ollama.reply("from the cache", extra={"timings": timings}, usage={"prompt_tokens": 1, "completion_tokens": 7})
    usage = complete(OpenAIProvider(base_url=ollama.base_url)).usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (1, 3000, 7)


def test_time_queued_for_a_provider_slot_is_kept_apart_from_model_time() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter(max_concurrent=1, clock=clock, sleep=clock.sleep)

    @dataclass
    class Slow:
        """A one-slot server's model: 5 s of work per request."""

        model_id: str = "local"
        provider: str = "openai"

        async def complete(self, request: ModelRequest) -> ModelResponse:
            await clock.sleep(5.0)
            return ModelResponse("ok", (), Usage(10, 2), self.model_id)

    model = RetryingModel(LimitedModel(Slow(), limiter), sleep=clock.sleep)
    request = ModelRequest("a", "s", (Message("user", (TextPart("hi"),)),))
    queued: list[float] = []

    async def main() -> None:
        async def one() -> None:
            queued.append((await model.complete(request)).queued_s)

        async with anyio.create_task_group() as group:
            group.start_soon(one)
            group.start_soon(one)

    anyio.run(main)
    assert sorted(queued) == [0.0, 5.0]


def test_the_call_record_carries_queued_s_only_when_the_call_waited() -> None:
    def record(queued: float) -> dict[str, Any]:
        built = call_record(
            run_id="r",
            agent="doc-master",
            model="local",
            started_at=datetime(2026, 12, 3, tzinfo=UTC),
            duration_s=471.0,
            attempts=1,
            status="ok",
            usage=Usage(100, 10),
            queued_s=queued,
        )
        return built.to_json()

    assert record(461.5)["queued_s"] == 461.5 and "queued_s" not in record(0.0)
    (read,) = parse_lines([json.dumps(record(461.5))])
    assert getattr(read, "queued_s", None) == 461.5


# ---------------------------------------------------------------- autodev doctor
def test_doctor_reports_tool_calls_and_the_learnt_window(
    repo: Path, ollama: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama.metadata[("GET", "/props")] = {"default_generation_settings": {"n_ctx": 4096}}
    ollama.reply(tool_calls=[ToolCall("ready", {})])
    settings = load_settings(repo, CliOverrides(models=(f"fast={LOCAL_MODELS[0]}",)))
    (key, line) = provider_checks(settings, {LOCAL_MODELS[0]: "fast"})
    assert key.status == "ok" and line.status == "ok", line.line()
    assert "calls tools" in line.detail and "context window 4,096 tokens (llama.cpp GET /props n_ctx)" in line.detail
    assert "max_tokens 8,192 is lowered" in line.detail
    sent = ollama.last_request.body
    assert [t["function"]["name"] for t in sent["tools"]] == ["ready"] and sent["tool_choice"] == "auto"


def test_doctor_fails_a_model_that_answers_in_prose(repo: Path, ollama: FakeOpenAI) -> None:
    ollama.reply("I am ready!")  # a llama-server without --jinja drops the tools and answers in text
    settings = load_settings(repo, CliOverrides(models=(f"fast={LOCAL_MODELS[1]}",)))
    (_, line) = provider_checks(settings, {LOCAL_MODELS[1]: "fast"})
    assert line.status == "fail" and "without calling the tool" in line.detail


# ---------------------------------------------------------------- a run that changes nothing
def run_scripted(repo: Path, script: dict[str, Any]) -> dict[str, Any]:
    result = run_feature(REQUEST, repo, CliOverrides(provider="scripted"), provider=ScriptedProvider(script))
    state: dict[str, Any] = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    return state


def test_an_implementer_that_makes_no_tool_calls_fails_the_run_with_the_reason(repo: Path) -> None:
    prose = [final("## Tests\nI would add a test for mul.\n## Test run\n- not run.")]
    script = feature_script({"test-master": prose, "implementer": [final(implemented("- mul is added."))]})
    state = run_scripted(repo, script)
    assert state["status"] == "failed"
    error = state["agents"]["implementer"]["error"]
    assert "the implementer made no tool calls" in error and "support tool calling" in error
    assert "autodev doctor" in error and "made no tool calls" in state["error"]
    assert state["agents"]["reviewer"]["status"] != "done" and not state.get("commit")


def test_an_implementer_that_reads_but_changes_nothing_says_so(repo: Path) -> None:
    prose = [final("## Tests\nNo test needed.\n## Test run\n- not run.")]
    reads = [tools(call("Read", file_path="calc/__init__.py")), final(implemented("- Nothing to change."))]
    state = run_scripted(repo, feature_script({"test-master": prose, "implementer": reads}))
    assert state["status"] == "failed"
    assert "the implementer changed no file (1 tool call(s): Read ×1)" in state["agents"]["implementer"]["error"]


def test_the_finished_line_counts_the_whole_prompt_and_what_came_from_the_cache() -> None:
    target = io.StringIO()
    printer = ProgressPrinter(Console(file=target, width=200, color_system=None))
    figures = {"duration_s": 9.5, "turns": 2, "input_tokens": 3001, "cache_read_tokens": 3000, "output_tokens": 7}
    printer(RunEvent("agent_finished", "planner", "done", data={**figures, "cost_usd": None, "error": None}))
    assert "3,001 in (3,000 cached) / 7 out" in target.getvalue()  # not "1 in"


def test_overlap_counts_model_time_not_queueing_for_a_slot() -> None:
    t0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def ran(agent: str, queued: float) -> list[Any]:
        """Three agents side by side on a one-slot server: each 10 s of work, the later ones queued behind."""
        ended = t0 + timedelta(seconds=10 + queued)
        usage = Usage(100, 10)
        return [
            call_record(
                run_id="r", agent=agent, model="local", started_at=t0, duration_s=10 + queued, attempts=1,
                status="ok", usage=usage, queued_s=queued,
            ),
            agent_record(
                run_id="r", agent=agent, tier="fast", model="local", provider="openai", status="done",
                started_at=t0, ended_at=ended, turns=1, usage=usage,
            ),
        ]  # fmt: skip

    records = [*ran("reviewer", 0.0), *ran("security-auditor", 10.0), *ran("doc-master", 20.0)]
    state = RunState(run_id="r", request="x", repo="", worktree="", branch="", base_commit="", agents={})
    state.agents = {name: AgentState() for name in ("reviewer", "security-auditor", "doc-master")}
    report = run_report(state, records, {"reviewer": [], "security-auditor": [], "doc-master": []})
    assert report.wall_s == 30.0 and report.totals.duration_s == 60.0 and report.totals.queued_s == 30.0
    assert report.overlap == 1.0  # 30 s of model time in 30 s: no real overlap (it was 2.0 before)


def test_init_writes_no_default_tier_for_a_local_server_but_its_models_to_choose(
    repo: Path, ollama: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(repo), "--yes"]) == 0, capsys.readouterr().err
    written = (repo / ".autodev" / "config.toml").read_text(encoding="utf-8")
    assert "gpt-5" not in written
    assert '# fast = "qwen2.5-coder:7b"  # name one of the server\'s models: it serves: qwen2.5-coder:7b' in written


@dataclass
class Big:
    """A tool whose result alone overflows a 4K window (a large file, a long test log)."""

    name: str = "Big"

    @property
    def definition(self) -> ToolDefinition:
        return ToolDefinition(self.name, "Returns a lot.", {"type": "object", "properties": {}})

    async def __call__(self, args: Any, ctx: Any) -> str:
        return "line of output\n" * 1600  # ~24,000 characters, ~6,000 tokens


def test_a_small_learnt_window_compacts_old_tool_results_instead_of_failing(ollama: FakeOpenAI, tmp_path: Path) -> None:
    ollama.reply(tool_calls=[ToolCall("Big", {})]).reply("## Changes\n- none needed")
    adapter = OpenAIProvider(base_url=ollama.base_url)
    run = run_one_agent(
        adapter.model(LOCAL_MODELS[0]),
        tmp_path,
        extra_tools={"Big": Big()},
        context_window=4096,
        max_tokens=8192,
        close=[adapter],
    )
    assert run.outcome.ok, run.outcome.error
    assert run.outcome.compactions == 1 and len(ollama.requests) == 2
    second = ollama.requests[1].body
    assert len(json.dumps(second["messages"])) < 4096 * 4 and second["max_tokens"] >= 1024
