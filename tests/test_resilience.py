"""Retries, timeouts and the shared rate limiter, exercised through the real adapters and the fake servers.

Models come from `build_provider` (the adapter, the timeout and `max_attempts` as configured); the limiter and
the retry sleep run on a `FakeClock`, so a `retry-after: 60` costs no real time and every wait is recorded.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI
from fakes.server import Delay, Disconnect, Error, FakeServer, Raw, RecordedRequest, Reply, Scripted, ToolCall
from provider_support import AgentRun, FakeClock, close_clients, run_one_agent, shared_tls_context

from autodev.config.providers import ResilientProvider, build_provider
from autodev.config.settings import Settings
from autodev.models import Message, ModelError, ModelRequest, ModelResponse, ProviderError, TextPart, Usage
from autodev.models.adapters.sdk_errors import parse_retry_after
from autodev.models.resilience import LimitedModel, ProviderLimiter, RetryingModel, RetryPolicy
from autodev.models.sizing import request_tokens

MODELS = {"anthropic": "claude-haiku-5-5", "openai": "gpt-5-nano"}

anthropic_server = FakeAnthropic.fixture("anthropic_server", scope="module")
openai_server = FakeOpenAI.fixture("openai_server", scope="module")


@pytest.fixture(autouse=True, scope="module")
def _one_tls_context() -> Iterator[None]:
    with shared_tls_context():  # SDK clients are made per test: load the CA bundle once
        yield


@pytest.fixture(params=["anthropic", "openai"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(kind: str, request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    server: FakeServer = request.getfixturevalue(f"{kind}_server")
    server.reset()
    yield server
    assert not server.internal_errors


@pytest.fixture
def claude(anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    anthropic_server.reset()
    yield anthropic_server
    assert not anthropic_server.internal_errors


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def env_for(kind: str, fake: FakeServer) -> dict[str, str]:
    if kind == "anthropic":
        return {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": fake.base_url}
    return {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake.base_url}


@dataclass
class Harness:
    """A run's wrapped provider (as `build_provider` makes it) with its limiter and retry sleep on a fake clock."""

    kind: str
    provider: ResilientProvider
    clock: FakeClock

    def model(self, model_id: str | None = None) -> RetryingModel:
        model = self.provider.model(model_id or MODELS[self.kind])
        assert isinstance(model, RetryingModel) and isinstance(model.inner, LimitedModel)
        model.sleep = self.clock.sleep
        model.rng = random.Random(0)
        return model

    def agent(self, tmp_path: Path, **kwargs: Any) -> AgentRun:
        return run_one_agent(self.model(), tmp_path, close=[self.provider], **kwargs)

    def complete(self, req: ModelRequest | None = None) -> ModelResponse:
        async def main() -> ModelResponse:
            try:
                return await self.model().complete(req or ask())
            finally:
                await close_clients([self.provider])

        return anyio.run(main)


def harness(kind: str, fake: FakeServer, clock: FakeClock, **settings: Any) -> Harness:
    configured = Settings(repo=None, provider=kind, **settings)
    built = build_provider(configured, env=env_for(kind, fake))
    assert built.policy.max_attempts == configured.max_attempts
    limiter = ProviderLimiter(
        max_concurrent=configured.max_concurrent_requests,
        requests_per_minute=configured.requests_per_minute,
        tokens_per_minute=configured.tokens_per_minute,
        clock=clock,
        sleep=clock.sleep,
    )
    return Harness(kind, ResilientProvider(built.inner, limiter, built.policy), clock)


def ask(text: str = "hello", agent: str = "planner", system: str = "You plan.", max_tokens: int = 256) -> ModelRequest:
    return ModelRequest(agent, system, (Message("user", (TextPart(text),)),), max_tokens=max_tokens)


def statuses(fake: FakeServer) -> list[int | None]:
    return [r.status for r in fake.requests]


# ---------------------------------------------------------------- retried failures
def test_429_with_retry_after_waits_that_long_then_succeeds(
    kind: str, fake: FakeServer, clock: FakeClock, tmp_path: Path
) -> None:
    fake.error(429, headers={"retry-after": "2"})
    fake.reply("## Done\nAll good.")
    run = harness(kind, fake, clock).agent(tmp_path)

    assert run.outcome.ok, run.outcome.error
    assert statuses(fake) == [429, 200]
    assert clock.sleeps == [2.0]  # the retry waited exactly retry-after; the limiter's pause had then passed
    (record,) = run.calls
    assert record["attempts"] == 2 and record["status"] == "ok"
    assert record["input_tokens"] > 0 and record["cost_usd"] is None  # no price function in this harness


@pytest.mark.parametrize(
    ("headers", "waited"),
    [({"retry-after-ms": "1500"}, 1.5), ({"retry-after": "0.25"}, 0.25), ({"retry-after": "3600"}, 60.0)],
)
def test_retry_after_variants(
    kind: str, fake: FakeServer, clock: FakeClock, headers: dict[str, str], waited: float
) -> None:
    fake.error(429, headers=headers)
    response = harness(kind, fake, clock).complete()
    assert response.attempts == 2 and clock.sleeps == [waited]  # retry-after is honoured up to 60 s


def test_a_529_burst_backs_off_exponentially_with_jitter(claude: FakeAnthropic, clock: FakeClock) -> None:
    claude.error(529).error(529).error(529)
    response = harness("anthropic", claude, clock, max_attempts=4).complete()

    assert response.attempts == 4 and response.text == "ok"
    assert statuses(claude) == [529, 529, 529, 200]
    assert len(clock.sleeps) == 3
    for attempt, delay in enumerate(clock.sleeps, start=1):
        base = 0.5 * 2 ** (attempt - 1)
        assert 0.75 * base <= delay <= base  # 0.5 s, 1 s, 2 s, each with up to 25 % jitter taken off


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Error(500), id="500"),
        pytest.param(Error(503), id="503"),
        pytest.param(Error(408), id="408"),
        pytest.param(Error(409), id="409"),
        pytest.param(Raw("{not json"), id="invalid-json"),
        pytest.param(Raw("<html><body>Bad gateway</body></html>", content_type="text/html"), id="html-200"),
        pytest.param(Raw("<html>502</html>", status=502, content_type="text/html"), id="html-502"),
        pytest.param(Raw('{"unexpected": true}'), id="json-not-a-reply"),
        pytest.param(Disconnect(), id="dropped-connection"),
    ],
)
def test_transient_failures_are_retried(kind: str, fake: FakeServer, clock: FakeClock, fault: Scripted) -> None:
    fake.enqueue(fault)
    fake.reply("recovered")
    response = harness(kind, fake, clock).complete()
    assert response.text == "recovered" and response.attempts == 2
    assert len(fake.requests) == 2 and len(clock.sleeps) == 1


def test_a_timeout_is_retried(kind: str, fake: FakeServer, clock: FakeClock, tmp_path: Path) -> None:
    fake.enqueue(Delay(120, Reply("too late")))  # the server's stop wakes it
    fake.reply("## Done\nin time")
    started = time.monotonic()
    run = harness(kind, fake, clock, request_timeout_s=0.2).agent(tmp_path)

    assert run.outcome.ok and run.outcome.handoff == "## Done\nin time"
    assert time.monotonic() - started < 60  # gave up on the slow answer instead of waiting for it
    assert run.calls[0]["attempts"] == 2
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [400, 403, 404, 413])
def test_client_errors_are_not_retried(kind: str, fake: FakeServer, clock: FakeClock, status: int) -> None:
    fake.error(status, "bad request").reply("never")
    with pytest.raises(ProviderError) as excinfo:
        harness(kind, fake, clock).complete()
    assert excinfo.value.status == status and excinfo.value.attempts == 1 and not excinfo.value.retryable
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_401_is_not_retried_and_names_the_key_variable(kind: str, fake: FakeServer, clock: FakeClock) -> None:
    fake.error(401).reply("never")
    with pytest.raises(ProviderError) as excinfo:
        harness(kind, fake, clock).complete()
    error = excinfo.value
    assert error.status == 401 and error.attempts == 1 and not error.retryable
    assert ("ANTHROPIC_API_KEY" if kind == "anthropic" else "OPENAI_API_KEY") in str(error)
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_a_revoked_key_fails_the_agent_at_once(clock: FakeClock, tmp_path: Path) -> None:
    with FakeAnthropic(bad_key="k") as fake:  # the key build_provider passes on is the one the server refuses
        run = harness("anthropic", fake, clock).agent(tmp_path)
        assert len(fake.requests) == 1
    assert not run.outcome.ok
    assert run.outcome.error is not None and "401" in run.outcome.error and "ANTHROPIC_API_KEY" in run.outcome.error
    (record,) = run.calls
    assert (record["status"], record["attempts"]) == ("error", 1)


def test_attempts_exhausted_fails_the_agent_with_the_provider_error(
    kind: str, fake: FakeServer, clock: FakeClock, tmp_path: Path
) -> None:
    fake.default = Error(500, "the server is on fire")
    run = harness(kind, fake, clock, max_attempts=3).agent(tmp_path)

    assert len(fake.requests) == 3 and len(clock.sleeps) == 2
    assert not run.outcome.ok
    assert run.outcome.error is not None
    assert run.outcome.error.startswith("model error: ") and "500" in run.outcome.error
    assert "the server is on fire" in run.outcome.error
    (record,) = run.calls
    assert (record["status"], record["attempts"]) == ("error", 3)
    assert record["input_tokens"] == 0 and record["cost_usd"] is None


def test_attempts_exhausted_raises_with_the_attempt_count(claude: FakeAnthropic, clock: FakeClock) -> None:
    claude.default = Error(529)
    with pytest.raises(ModelError) as excinfo:
        harness("anthropic", claude, clock, max_attempts=5).complete()
    assert isinstance(excinfo.value, ProviderError) and excinfo.value.status == 529
    assert excinfo.value.attempts == 5 and len(claude.requests) == 5


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(None, id="default-fault"),
        pytest.param(Error(429, headers={"retry-after": "1"}), id="429"),
        pytest.param(Disconnect(), id="disconnect"),
        pytest.param(Raw("{trunc"), id="malformed"),
    ],
)
def test_a_multi_turn_agent_completes_despite_injected_faults(
    kind: str, fake: FakeServer, clock: FakeClock, tmp_path: Path, fault: Scripted | None
) -> None:
    fake.set_faults(0.3, fault, seed=13)  # this seed's draws: F...FFFF.F -> one fault, then a burst of four
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py"})])
    fake.reply(tool_calls=[ToolCall("Grep", {"pattern": "greet"})])
    fake.reply(tool_calls=[ToolCall("Read", {"file_path": "src/greet.py", "offset": 2})])
    fake.reply("## Findings\ngreet() concatenates.")
    run = harness(kind, fake, clock, max_attempts=8).agent(tmp_path, tools=("Read", "Grep"))

    assert run.outcome.ok, run.outcome.error
    assert run.outcome.turns == 4 and run.outcome.handoff == "## Findings\ngreet() concatenates."
    attempts = [c["attempts"] for c in run.calls]
    assert attempts == [2, 1, 1, 5]
    assert sum(attempts) == len(fake.requests)  # every request the fake saw is counted in some call record
    assert len(clock.sleeps) == sum(attempts) - len(attempts)
    assert fake.pending == 0  # all four scripted replies were delivered, in order


# ---------------------------------------------------------------- the retry policy itself
def test_retry_policy_delays() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=0.5, max_delay_s=8.0, max_retry_after_s=60.0)
    rng = random.Random(3)
    plain = ProviderError("x", retryable=True)
    for attempt in range(1, 10):
        cap = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert 0.75 * cap <= policy.delay(attempt, plain, rng) <= cap
    assert policy.delay(1, ProviderError("x", retryable=True, retry_after_s=7.0), rng) == 7.0
    assert policy.delay(1, ProviderError("x", retryable=True, retry_after_s=600.0), rng) == 60.0
    assert policy.delay(1, ProviderError("x", retryable=True, retry_after_s=-3.0), rng) == 0.0


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "whenever"}) is None
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a date in the past
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    waited = parse_retry_after({"retry-after": future})
    assert waited is not None and 25 <= waited <= 31


# ---------------------------------------------------------------- the shared limiter
class InstantModel:
    """A model that answers at once, noting the (fake) time of each call; optionally fails first."""

    def __init__(self, clock: Callable[[], float], usage: Usage = Usage(100, 10), fail: list[Exception] | None = None):
        self.clock, self.usage, self.fail = clock, usage, list(fail or [])
        self.called_at: list[float] = []

    model_id = "instant"
    provider = "test"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.called_at.append(self.clock())
        await anyio.lowlevel.checkpoint()
        if self.fail:
            raise self.fail.pop(0)
        return ModelResponse("ok", (), self.usage, self.model_id)


def run_sequentially(model: Any, requests: list[ModelRequest]) -> list[ModelResponse]:
    async def main() -> list[ModelResponse]:
        return [await model.complete(r) for r in requests]

    return anyio.run(main)


def test_max_concurrent_is_never_exceeded() -> None:
    limiter = ProviderLimiter(max_concurrent=3)
    gate = anyio.Event()
    state = {"in_flight": 0, "peak": 0, "done": 0}

    class GatedModel(InstantModel):
        async def complete(self, request: ModelRequest) -> ModelResponse:
            state["in_flight"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
            await gate.wait()
            state["in_flight"] -= 1
            state["done"] += 1
            return ModelResponse("ok", (), Usage(1, 1), "gated")

    async def main() -> None:
        model = LimitedModel(GatedModel(time.monotonic), limiter)
        async with anyio.create_task_group() as group:
            for i in range(8):
                group.start_soon(model.complete, ask(f"q{i}"))
            for _ in range(200):  # let every caller get as far as it can
                await anyio.lowlevel.checkpoint()
            assert state["in_flight"] == 3 and state["done"] == 0
            gate.set()

    anyio.run(main)
    assert state["peak"] == 3 and state["done"] == 8


def test_max_concurrent_requests_seen_at_the_fake(kind: str, fake: FakeServer) -> None:
    changed = threading.Condition()
    seen = {"in_flight": 0, "peak": 0}

    def slow(request: RecordedRequest) -> Scripted:
        with changed:
            seen["in_flight"] += 1
            seen["peak"] = max(seen["peak"], seen["in_flight"])
            changed.notify_all()
            # Hold each request until a second one is in flight, then a little longer: any third request a broken
            # limiter let through would arrive meanwhile. Deterministic on a slow machine too.
            changed.wait_for(lambda: seen["in_flight"] >= 2, timeout=5.0)
        time.sleep(0.02)
        with changed:
            seen["in_flight"] -= 1
        return Reply("ok")

    fake.responder = slow
    settings = Settings(repo=None, provider=kind, max_concurrent_requests=2)
    provider = build_provider(settings, env=env_for(kind, fake))

    async def main() -> None:
        try:
            async with anyio.create_task_group() as group:
                for i in range(6):  # six agents of one run, all asking at once
                    group.start_soon(provider.model(MODELS[kind]).complete, ask(agent=f"agent-{i}"))
        finally:
            await close_clients([provider])

    anyio.run(main)
    assert len(fake.requests) == 6 and all(r.status == 200 for r in fake.requests)
    assert seen["peak"] == 2


def test_requests_per_minute_are_spaced(clock: FakeClock) -> None:
    limiter = ProviderLimiter(requests_per_minute=2, clock=clock, sleep=clock.sleep)
    inner = InstantModel(clock)
    run_sequentially(LimitedModel(inner, limiter), [ask() for _ in range(4)])
    start = 1000.0
    assert [t - start for t in inner.called_at] == [0.0, 0.0, 30.0, 60.0]  # a burst of 2, then one per 30 s
    assert clock.sleeps == [30.0, 30.0]
    assert limiter.waited_s == 60.0


def test_parallel_callers_share_the_request_budget(clock: FakeClock) -> None:
    limiter = ProviderLimiter(requests_per_minute=6, clock=clock, sleep=clock.sleep)
    inner = InstantModel(clock)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for i in range(9):
                group.start_soon(LimitedModel(inner, limiter).complete, ask(agent=f"a{i}"))

    anyio.run(main)
    times = sorted(t - 1000.0 for t in inner.called_at)
    assert times == [0.0] * 6 + [10.0, 20.0, 30.0]  # a burst of 6, then one every 10 s whoever asks


def test_tokens_per_minute(clock: FakeClock) -> None:
    big = ask(system="x" * 1995, max_tokens=400)  # (1995 + 5) / 4 = 500 input tokens + 400 / 4 = 600 estimated
    assert request_tokens(big) + big.max_tokens // 4 == 600
    limiter = ProviderLimiter(tokens_per_minute=1000, clock=clock, sleep=clock.sleep)
    inner = InstantModel(clock, usage=Usage(input_tokens=500, output_tokens=100))  # exactly as estimated
    run_sequentially(LimitedModel(inner, limiter), [big, big, big])
    assert [round(t - 1000.0, 6) for t in inner.called_at] == [0.0, 12.0, 48.0]  # 400 left, refilled at 1000/min
    assert clock.sleeps == pytest.approx([12.0, 36.0])


def test_tokens_per_minute_settles_on_the_reported_usage(clock: FakeClock) -> None:
    big = ask(system="x" * 1995, max_tokens=400)  # estimated 600
    limiter = ProviderLimiter(tokens_per_minute=1000, clock=clock, sleep=clock.sleep)
    inner = InstantModel(clock, usage=Usage(input_tokens=900, output_tokens=100))  # used 1000, not 600
    run_sequentially(LimitedModel(inner, limiter), [big, big])
    assert clock.sleeps == pytest.approx([36.0])  # the bucket is empty after the first: 600 tokens to refill


def test_a_request_larger_than_a_minute_budget_waits_for_a_full_bucket(clock: FakeClock) -> None:
    limiter = ProviderLimiter(tokens_per_minute=100, clock=clock, sleep=clock.sleep)
    inner = InstantModel(clock, usage=Usage(50, 50))
    run_sequentially(LimitedModel(inner, limiter), [ask(system="x" * 2000)] * 2)
    assert len(inner.called_at) == 2 and clock.sleeps == pytest.approx([60.0])


def test_a_429_pause_makes_other_callers_wait(clock: FakeClock) -> None:
    limiter = ProviderLimiter(clock=clock, sleep=clock.sleep)
    throttled = InstantModel(clock, fail=[ProviderError("slow down", status=429, retryable=True, retry_after_s=5.0)])
    other = InstantModel(clock)

    async def main() -> None:
        with pytest.raises(ProviderError):
            await LimitedModel(throttled, limiter).complete(ask(agent="reviewer"))
        await LimitedModel(other, limiter).complete(ask(agent="doc-master"))

    anyio.run(main)
    assert clock.sleeps == [5.0] and other.called_at == [1005.0]


def test_a_429_without_retry_after_pauses_no_one(clock: FakeClock) -> None:
    limiter = ProviderLimiter(clock=clock, sleep=clock.sleep)
    throttled = InstantModel(clock, fail=[ProviderError("slow down", status=429, retryable=True)])
    other = InstantModel(clock)

    async def main() -> None:
        with pytest.raises(ProviderError):
            await LimitedModel(throttled, limiter).complete(ask())
        await LimitedModel(other, limiter).complete(ask())

    anyio.run(main)
    assert clock.sleeps == [] and other.called_at == [1000.0]


def test_a_429_at_the_fake_pauses_the_other_agents_of_the_run(claude: FakeAnthropic, clock: FakeClock) -> None:
    claude.error(429, headers={"retry-after": "3"})
    h = harness("anthropic", claude, clock, max_attempts=1)  # no retry: only the shared pause is left to see

    async def main() -> None:
        try:
            with pytest.raises(ProviderError) as excinfo:
                await h.model().complete(ask(agent="reviewer"))
            assert excinfo.value.status == 429
            await h.model().complete(ask(agent="security-auditor"))
        finally:
            await close_clients([h.provider])

    anyio.run(main)
    assert statuses(claude) == [429, 200]
    assert clock.sleeps == [3.0]  # the second agent waited out the first one's retry-after


def test_a_pause_is_capped_like_a_retry_after(clock: FakeClock) -> None:
    limiter = ProviderLimiter(clock=clock, sleep=clock.sleep)
    limiter.pause(3600.0)  # "come back in an hour": a retry honours at most 60 s, so does everyone else's wait
    inner = InstantModel(clock)
    run_sequentially(LimitedModel(inner, limiter), [ask()])
    assert clock.sleeps == [60.0] and inner.called_at == [1060.0]
