"""The cluster-wide model-call limit as arithmetic: token buckets by virtual scheduling (GCRA).

One limiter workflow per provider (`workflows.RateLimiterWorkflow`) holds a `Bucket` and answers
every worker's "may I call the model?" with a wait. Because a workflow handles one update at a time
and keeps its state durably, the limit holds for all workers together, across machines and restarts
— unlike `models.resilience.ProviderLimiter`, which is per process. The semantics match that local
limiter: requests per minute and tokens per minute, each bucket starting full with a minute's worth
(or `burst` requests), a 429's retry-after pausing everybody, and token estimates settled against
what the provider reported.

A grant reserves a future slot instead of saying "try again later": the caller sleeps until the slot
and then calls, so there is no polling and no thundering herd. Nothing here reads a clock; the
workflow passes its deterministic `workflow.now()`.
"""

from __future__ import annotations

from autodev.engines.temporal.messages import Bucket, SlotRequest

MAX_PAUSE_S = 60.0  # as `RetryPolicy.max_retry_after_s`: a longer retry-after is not honoured


def grant(bucket: Bucket, now: float, request: SlotRequest) -> float:
    """Reserve the earliest slot for `request` at or after `now`; returns how long to wait for it.

    A bucket of capacity C refilling at r units per second admits a request of c units at the first
    t >= now with `tat - t <= (C - c) / r`, where `tat` is the time it would be full again; admitting
    it moves `tat` to `max(tat, t) + c / r`.
    """
    rpm, tpm = request.requests_per_minute, request.tokens_per_minute
    if tpm and request.correction:
        bucket.token_tat += request.correction * 60.0 / tpm
    at = max(now, bucket.paused_until)
    if rpm:
        capacity = float(request.burst or rpm)
        at = max(at, bucket.request_tat - (capacity - 1.0) * 60.0 / rpm)
    cost = 0.0
    if tpm:
        cost = float(min(max(request.tokens, 0), tpm))  # larger than a minute's budget: waits for a full bucket
        at = max(at, bucket.token_tat - (tpm - cost) * 60.0 / tpm)
    if rpm:
        bucket.request_tat = max(bucket.request_tat, at) + 60.0 / rpm
    if tpm:
        bucket.token_tat = max(bucket.token_tat, at) + cost * 60.0 / tpm
    return at - now


def pause(bucket: Bucket, now: float, seconds: float) -> None:
    """Everyone waits: the provider told one caller to back off."""
    bucket.paused_until = max(bucket.paused_until, now + min(max(seconds, 0.0), MAX_PAUSE_S))
