"""A latency-simulating model for benchmarks: real replies, simulated time.

`SimulatedLatencyModel` wraps any `Model` (in the pipeline benchmark, the scripted demo replies, so
tool calls are real and tests really run) and replaces only its timing: each reply takes the tier's
time to first token plus its output tokens over the tier's tokens per second, everything multiplied
by `time_scale`. Each agent's total time is shaped by a latency profile (by default the timings
observed in one real run of the original pipeline): an agent's calls share its profile time, and a
call's output token count is set to what that time produces at the tier's speed (never fewer than
the inner reply reported).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import anyio

from autodev.models import ModelProvider, ModelRequest, ModelResponse, ModelWrapper


@dataclass(frozen=True)
class TierSpeed:
    ttft_s: float  # time to first token
    tokens_per_s: float  # output speed


TIER_SPEEDS: dict[str, TierSpeed] = {
    "fast": TierSpeed(0.5, 200.0),
    "balanced": TierSpeed(0.8, 80.0),
    "deep": TierSpeed(1.2, 40.0),
}

# Seconds per agent invocation. The first five were observed in one real run of the original
# markdown-orchestrated pipeline (REFERENCE.md); the last three were not measured there and are our
# estimates: a reviewer reads a diff (90 s), a security audit scans it (80 s), docs edit prose (60 s).
AGENT_SECONDS: dict[str, float] = {
    "researcher-local": 73.0,
    "researcher-web": 143.0,
    "planner": 106.0,
    "test-master": 120.0,
    "implementer": 183.0,
    "reviewer": 90.0,
    "security-auditor": 80.0,
    "doc-master": 60.0,
}
DEFAULT_AGENT_SECONDS = 60.0


@dataclass
class LatencyLog:
    """What the simulated models waited, in real (scaled) seconds, per agent: for overhead figures."""

    model_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class SimulatedLatencyModel(ModelWrapper):
    tier: str
    calls_per_agent: Mapping[str, int]
    time_scale: float = 1.0
    agent_seconds: Mapping[str, float] = field(default_factory=lambda: dict(AGENT_SECONDS))
    speeds: Mapping[str, TierSpeed] = field(default_factory=lambda: dict(TIER_SPEEDS))
    log: LatencyLog = field(default_factory=LatencyLog)

    def reply_seconds(self, agent: str, scripted_output_tokens: int) -> tuple[float, int]:
        """(unscaled seconds, output tokens) of one reply for `agent`."""
        speed = self.speeds.get(self.tier, TIER_SPEEDS["balanced"])
        per_call = self.agent_seconds.get(agent, DEFAULT_AGENT_SECONDS) / max(1, self.calls_per_agent.get(agent, 1))
        tokens = max(scripted_output_tokens, round((per_call - speed.ttft_s) * speed.tokens_per_s))
        return speed.ttft_s + tokens / speed.tokens_per_s, tokens

    async def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        response = await self.inner.complete(request)
        seconds, tokens = self.reply_seconds(request.agent, response.usage.output_tokens)
        remaining = seconds * self.time_scale - (time.perf_counter() - started)
        if remaining > 0:
            await anyio.sleep(remaining)
        self.log.model_s[request.agent] += time.perf_counter() - started
        self.log.calls[request.agent] += 1
        return replace(response, usage=replace(response.usage, output_tokens=tokens))


@dataclass
class SimulatedLatencyProvider:
    """Serves `inner`'s models with simulated latency; `tiers` maps a model id to its tier."""

    inner: ModelProvider
    tiers: Mapping[str, str]
    calls_per_agent: Mapping[str, int]
    time_scale: float = 1.0
    agent_seconds: Mapping[str, float] = field(default_factory=lambda: dict(AGENT_SECONDS))
    log: LatencyLog = field(default_factory=LatencyLog)

    @property
    def name(self) -> str:
        return "simulated"

    @property
    def web_search(self) -> bool:
        return self.inner.web_search

    def model(self, model_id: str) -> SimulatedLatencyModel:
        return SimulatedLatencyModel(
            self.inner.model(model_id),
            self.tiers.get(model_id, "balanced"),
            self.calls_per_agent,
            self.time_scale,
            self.agent_seconds,
            log=self.log,
        )
