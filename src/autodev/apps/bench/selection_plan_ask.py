"""Asking a model to plan the benchmark's requests: the planner's instructions, one turn, no tools.

The repository's listing is the request's shared, cacheable context (every request of a project has the
same one), so a sample pays for it mostly at the cache-read price. Each answer is appended to the answers
file the moment it arrives: a stopped benchmark keeps what it paid for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import anyio

from autodev.core.errors import RunError
from autodev.core.redact import redact
from autodev.models import Message, Model, ModelError, ModelProvider, ModelRequest, TextPart
from autodev.models.pricing import PriceTable
from autodev.run.selection.paths import path_kind

LISTING_LIMIT = 500  # paths shown; the rest are counted
TASK = (
    "You cannot read the repository here: plan from the request and the file listing above. "
    "End with your handoff, in the sections your instructions give."
)


@dataclass(frozen=True)
class PlanAnswer:
    """One planned commit, as a line of the answers file."""

    sha: str
    model: str
    plan: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> PlanAnswer:
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return cls(
            sha=str(data["sha"]),
            model=str(data["model"]),
            plan=str(data["plan"]),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cache_read_tokens=int(data.get("cache_read_tokens", 0)),
            cost_usd=None if data.get("cost_usd") is None else float(data["cost_usd"]),
        )


def listing_context(paths: Sequence[str], limit: int = LISTING_LIMIT) -> str:
    """The repository's files for the planner: test files counted by folder (it plans where the change
    lands, not which test case holds what), the rest listed up to `limit`."""
    tests: dict[str, int] = {}
    shown: list[str] = []
    for path in sorted(paths):
        if path_kind(path) == "tests":
            folder = str(PurePosixPath(path).parent)
            tests[folder] = tests.get(folder, 0) + 1
        else:
            shown.append(path)
    lines = shown[:limit] + [
        f"{folder}/ ({count} test file{'s' * (count != 1)})" for folder, count in sorted(tests.items())
    ]
    if len(shown) > limit:
        lines.append(f"... and {len(shown) - limit} more files")
    return "# Repository files\n\n" + "\n".join(lines)


@dataclass
class Asker:
    """Plans requests with the provider's `model_id` under the planner's `system` prompt, `concurrency` at
    a time (the provider's own limits and retries apply too)."""

    provider: ModelProvider
    model_id: str
    system: str
    prices: PriceTable
    concurrency: int = 8
    max_tokens: int = 2000

    def request_for(self, request: str, listing: Sequence[str]) -> ModelRequest:
        text = f"# Request\n\n{request.strip()}\n\n{TASK}"
        return ModelRequest(
            agent="planner",
            system=self.system,
            messages=(Message("user", (TextPart(text),)),),
            max_tokens=self.max_tokens,
            context=listing_context(listing),
        )

    async def ask(self, model: Model, sha: str, request: str, listing: Sequence[str]) -> PlanAnswer:
        response = await model.complete(self.request_for(request, listing))
        usage = response.usage
        return PlanAnswer(
            sha=sha,
            model=self.model_id,
            plan=redact(response.text),
            input_tokens=usage.input_tokens + usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=self.prices.cost(response.model or self.model_id, usage),
        )

    def ask_all(self, todo: Sequence[tuple[str, str, Sequence[str]]], answers: Path) -> Iterator[PlanAnswer]:
        """Plan every `(sha, request, listing)`, appending each answer to `answers` as it arrives. A model
        call that fails (after the provider's retries) stops the rest: a `RunError` says why, and what
        arrived before it is kept."""
        got: list[PlanAnswer] = []
        failed: list[ModelError] = []

        async def main() -> None:
            model = self.provider.model(self.model_id)
            limiter = anyio.CapacityLimiter(self.concurrency)

            async def one(sha: str, request: str, listing: Sequence[str], scope: anyio.CancelScope) -> None:
                try:
                    async with limiter:
                        answer = await self.ask(model, sha, request, listing)
                except ModelError as exc:
                    failed.append(exc)
                    scope.cancel()
                    return
                keep(answer, answers)
                got.append(answer)

            try:
                async with anyio.create_task_group() as group:
                    for sha, request, listing in todo:
                        group.start_soon(one, sha, request, listing, group.cancel_scope)
            finally:
                close = getattr(self.provider, "aclose", None)
                if close is not None:
                    await close()

        anyio.run(main)
        if failed:
            kept = f"{len(got):,} of {len(todo):,} plans arrived" + (f" and are kept in {answers}" if got else "")
            raise RunError(f"a model call failed: {failed[0]}", hint=f"{kept}; run again to ask for the rest")
        yield from got


def keep(answer: PlanAnswer, answers: Path) -> None:
    """Append one answer to the answers file (made on the first one: a benchmark that got none leaves none)."""
    answers.parent.mkdir(parents=True, exist_ok=True)
    with answers.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(asdict(answer), ensure_ascii=False) + "\n")
