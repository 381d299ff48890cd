"""Retries and rate limits as wrappers around any `Model`, so adapters stay about wire formats.

`RetryingModel` retries what a provider marks retryable (408/409/429/5xx/529, timeouts, connection
errors, malformed bodies) with exponential backoff and jitter, honouring `retry-after`, and reports
how many attempts a call took. `ProviderLimiter` is shared by every agent of a run: at most N
requests in flight, requests and tokens per minute when configured, and a pause for everyone when
one request is told to back off, so parallel agents don't stampede into more 429s.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import anyio

from autodev.models import ModelRequest, ModelResponse, ModelWrapper, ProviderError
from autodev.models.sizing import estimated_tokens

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, error: ProviderError, rng: random.Random) -> float:
        if error.retry_after_s is not None:
            return min(max(error.retry_after_s, 0.0), self.max_retry_after_s)
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return backoff * (0.75 + 0.25 * rng.random())  # jitter: spread retries of parallel agents


@dataclass
class RetryingModel(ModelWrapper):
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = anyio.sleep
    rng: random.Random = field(default_factory=random.Random)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        attempt, queued = 1, 0.0  # the time earlier attempts waited for a slot counts as queueing too
        while True:
            try:
                response = await self.inner.complete(request)
            except ProviderError as error:
                error.attempts = attempt
                queued += error.queued_s
                error.queued_s = queued
                if not error.retryable or attempt >= self.policy.max_attempts:
                    raise
                await self.sleep(self.policy.delay(attempt, error, self.rng))
                attempt += 1
                continue
            return replace(response, attempts=attempt, queued_s=queued + response.queued_s)


class ProviderLimiter:
    """Concurrency, requests/min and tokens/min for one provider, shared by all agents of a run."""

    def __init__(
        self,
        *,
        max_concurrent: int | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        self._slots = anyio.CapacityLimiter(max_concurrent) if max_concurrent else None
        self._rpm, self._tpm = requests_per_minute, tokens_per_minute
        self._clock, self._sleep = clock, sleep
        now = clock()
        self._requests = float(requests_per_minute or 0)
        self._tokens = float(tokens_per_minute or 0)
        self._refilled_at = now
        self._paused_until = now
        self._lock = anyio.Lock()
        self.waited_s = 0.0  # total time requests spent waiting here, for reports

    max_pause_s = RetryPolicy.max_retry_after_s  # as for a retry: a longer retry-after is not honoured

    def pause(self, seconds: float) -> None:
        """Everyone waits: the provider told one of us to back off."""
        self._paused_until = max(self._paused_until, self._clock() + min(seconds, self.max_pause_s))

    def _refill(self, now: float) -> None:
        elapsed = now - self._refilled_at
        self._refilled_at = now
        if self._rpm:
            self._requests = min(float(self._rpm), self._requests + elapsed * self._rpm / 60)
        if self._tpm:
            self._tokens = min(float(self._tpm), self._tokens + elapsed * self._tpm / 60)

    def _wait_needed(self, tokens: int) -> float:
        now = self._clock()
        self._refill(now)
        waits = [self._paused_until - now]
        if self._rpm and self._requests < 1:
            waits.append((1 - self._requests) * 60 / self._rpm)
        if self._tpm:
            wanted = min(tokens, self._tpm)  # a request larger than a minute's budget waits for a full bucket
            if self._tokens < wanted:
                waits.append((wanted - self._tokens) * 60 / self._tpm)
        return max(waits)

    async def _admit(self, tokens: int) -> float:
        """Wait for the rates and any pause; returns the seconds waited."""
        waited = 0.0
        while True:
            async with self._lock:
                wait = self._wait_needed(tokens)
                if wait <= 0:
                    if self._rpm:
                        self._requests -= 1
                    if self._tpm:
                        self._tokens -= min(tokens, self._tpm)
                    return waited
            self.waited_s += wait
            waited += wait
            await self._sleep(wait)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once the provider says what a request really used."""
        if self._tpm:
            self._tokens -= actual - min(estimated, self._tpm)

    @asynccontextmanager
    async def slot(self, tokens: int) -> AsyncIterator[float]:
        """Hold a slot for one request; yields the seconds it waited for it (queueing, not model time)."""
        waited = await self._admit(tokens)
        if self._slots is None:
            yield waited
            return
        full, began = self._slots.available_tokens < 1, self._clock()  # only a full limiter makes a request queue
        async with self._slots:
            yield waited + (max(0.0, self._clock() - began) if full else 0.0)


@dataclass
class LimitedModel(ModelWrapper):
    limiter: ProviderLimiter

    async def complete(self, request: ModelRequest) -> ModelResponse:
        estimated = estimated_tokens(request)
        async with self.limiter.slot(estimated) as waited:
            try:
                response = await self.inner.complete(request)
            except ProviderError as error:
                error.queued_s += waited
                if error.status == 429 and error.retry_after_s:
                    self.limiter.pause(error.retry_after_s)
                raise
        self.limiter.settle(estimated, response.usage.context_tokens + response.usage.output_tokens)
        return replace(response, queued_s=response.queued_s + waited)
