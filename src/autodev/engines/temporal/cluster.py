"""The model-call limit that holds for all workers together, as a `Model` wrapper.

Before each model request (each attempt of it), the wrapper asks the provider's limiter workflow
(`workflows.RateLimiterWorkflow`, one per provider and task queue) for a slot with a Temporal
Update, then sleeps until the slot comes. The workflow serialises every worker's requests and
keeps its buckets durably, so the rate holds across processes and machines; a 429 with
retry-after pauses the whole cluster, not one worker. What the provider really used is settled
with the worker's next request. Per-process concurrency (`max_concurrent_requests`) stays local.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from autodev.engines.temporal.messages import SlotGrant, SlotRequest
from autodev.engines.temporal.workflows import LIMITER_WORKFLOW, RateLimiterWorkflow, limiter_id
from autodev.models import Model, ModelRequest, ModelResponse, ModelWrapper, ProviderError, ProviderWrapper
from autodev.models.sizing import estimated_tokens

ACQUIRE_TRIES = 8
RETRIED = (RPCStatusCode.NOT_FOUND, RPCStatusCode.UNAVAILABLE)


@dataclass
class ClusterLimiter:
    client: Client
    task_queue: str
    key: str
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    burst: int | None = None
    waited_s: float = 0.0  # total time this process's requests waited for their slots
    grants: int = 0
    _correction: int = field(default=0, repr=False)

    @property
    def workflow_id(self) -> str:
        return limiter_id(f"{self.key}-{self.task_queue}")

    async def admit(self, tokens: int) -> float:
        """Wait for a slot for a request of about `tokens` tokens; returns the wait."""
        request = SlotRequest(
            tokens=tokens,
            correction=self._correction,
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            burst=self.burst,
        )
        self._correction = 0
        grant = await self._acquire(request)
        self.grants += 1
        # Wait for the slot's own time: a wait counted from when the reply arrived would add the reply's
        # varying latency to every call, letting two calls land closer together than the limit allows.
        wait = grant.at - time.time() if grant.at else grant.wait_s
        if wait > 0:
            self.waited_s += wait
            await anyio.sleep(wait)
        return max(wait, 0.0)

    def settle(self, estimated: int, actual: int) -> None:
        if self.tokens_per_minute:
            self._correction += actual - min(estimated, self.tokens_per_minute)

    async def pause(self, seconds: float) -> None:
        await self.client.get_workflow_handle(self.workflow_id).signal(RateLimiterWorkflow.pause, seconds)

    async def _acquire(self, request: SlotRequest) -> SlotGrant:
        """The limiter is started on first use, and followed across its continue-as-new."""
        for attempt in range(ACQUIRE_TRIES):
            handle = self.client.get_workflow_handle(self.workflow_id)
            try:
                return await handle.execute_update(RateLimiterWorkflow.acquire, request)
            except RPCError as exc:
                if attempt == ACQUIRE_TRIES - 1 or exc.status not in (
                    RPCStatusCode.NOT_FOUND,
                    RPCStatusCode.UNAVAILABLE,
                ):
                    raise
                if exc.status == RPCStatusCode.NOT_FOUND:  # never started, or between two runs
                    await self._start()
                else:
                    await anyio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _start(self) -> None:
        await self.client.start_workflow(
            LIMITER_WORKFLOW,
            None,
            id=self.workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"model-call limit for {self.key}: shared by every worker on {self.task_queue}",
        )


@dataclass
class ClusterLimitedModel(ModelWrapper):
    limiter: ClusterLimiter

    async def complete(self, request: ModelRequest) -> ModelResponse:
        estimated = estimated_tokens(request)
        await self.limiter.admit(estimated)
        try:
            response = await self.inner.complete(request)
        except ProviderError as error:
            if error.status == 429 and error.retry_after_s:
                await self.limiter.pause(error.retry_after_s)
            raise
        self.limiter.settle(estimated, response.usage.context_tokens + response.usage.output_tokens)
        return response


@dataclass
class ClusterLimitedProvider(ProviderWrapper):
    limiter: ClusterLimiter

    def wrap(self, model: Model) -> Model:
        return ClusterLimitedModel(model, self.limiter)
