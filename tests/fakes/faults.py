"""Seeded fault injection for the fake provider servers: a fraction of requests answered with a fault.

`FakeAnthropic(faults=FaultPlan(rate=0.3, seed=7))` (or `fake.faults = FaultPlan(...)`) answers about 30 % of the
valid requests with one of the kinds below instead of their scripted answer, which is then given to the next
request (the client's retry, or the model's next turn after an injected mistake). Kinds:

- transport, retried by the client: `rate_limit` (429 with `retry-after`), `overloaded` (529 on Anthropic, 503 on
  OpenAI), `server_error` (500), `timeout` (no answer until after the client's timeout), `disconnect` (the
  connection closed without an answer), `malformed` (a 200 whose JSON body is cut short);
- the model's own mistakes, answered by the runtime with an error result so the model can correct itself:
  `invalid_arguments` (OpenAI: an arguments string that is not JSON; Anthropic: arguments of the wrong types),
  `unknown_tool` (a tool the request did not offer), and `cut_off` (a reply cut off by the output limit:
  `stop_reason: max_tokens` / `finish_reason: length`).

Tool-call faults are only injected into requests that offer tools. Injected tool calls get ids containing
`_fault` and cut-off replies start with `CUT_OFF_TEXT`, so a responder can tell the model's injected turns from
its real ones (`real_turn`) and answer the turn it would have answered without the fault.

Draws are seeded. With `key` (a function of the request, e.g. "agent:turn"), the draw for the n-th request with a
given key depends only on (seed, key, n), so parallel clients get the same faults whatever order their requests
arrive in; without it, one `random.Random(seed)` is drawn in arrival order. `plan.injected` counts what was
injected, per kind.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import RecordedRequest

TRANSPORT_KINDS = ("rate_limit", "overloaded", "server_error", "timeout", "disconnect", "malformed")
TOOL_KINDS = ("invalid_arguments", "unknown_tool")
MODEL_KINDS = (*TOOL_KINDS, "cut_off")
ALL_KINDS = (*TRANSPORT_KINDS, *MODEL_KINDS)

FAULT_ID_MARK = "_fault"
CUT_OFF_TEXT = "Let me explain everything I found in full detail, starting with the first of the many"
UNKNOWN_TOOL = "RunShellCommand"


@dataclass
class FaultPlan:
    """Which requests get a fault, and which kind (see the module docstring).

    - `rate`: the fraction of requests that get one (0..1); `kinds`: the kinds to choose from, uniformly.
    - `seed`, `key`: how draws are made. `retry_after`: the 429's `retry-after` header (seconds).
    - `timeout_s`: how long a `timeout` fault holds its answer; make it longer than the client's timeout (the
      wait ends early when the server stops).
    """

    rate: float
    kinds: Sequence[str] = ALL_KINDS
    seed: int = 0
    key: Callable[[RecordedRequest], str] | None = None
    retry_after: str = "0.05"
    timeout_s: float = 30.0
    injected: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str]] = field(default_factory=list)  # (key or "#n", kind), in the order injected

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")
        unknown = sorted(set(self.kinds) - set(ALL_KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds {unknown}; choose from {', '.join(ALL_KINDS)}")
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._seen: Counter[str] = Counter()
        self.requests = 0  # requests that were drawn for

    def draw(self, request: RecordedRequest, *, offers_tools: bool) -> tuple[str, random.Random] | None:
        """The fault kind for this request (and a generator to shape it with), or None."""
        key = self.key(request) if self.key is not None else None
        with self._lock:
            self.requests += 1
            if key is None:
                rng, label = self._rng, f"#{self.requests}"
            else:
                self._seen[key] += 1
                label = key
                rng = random.Random(f"{self.seed}:{key}:{self._seen[key]}")
            if rng.random() >= self.rate:
                return None
            kinds = [k for k in self.kinds if offers_tools or k not in TOOL_KINDS]
            if not kinds:
                return None
            kind = rng.choice(kinds)
            self.injected[kind] += 1
            self.log.append((label, kind))
            return kind, random.Random(rng.random())

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.injected.values())

    def counts(self) -> dict[str, int]:
        """Injected faults per kind, every kind of the plan listed (0 when none was injected)."""
        with self._lock:
            return {kind: self.injected[kind] for kind in self.kinds}


# ---------------------------------------------------------------- for responders: the model's real turns
def is_injected(message: Mapping[str, Any]) -> bool:
    """Whether an assistant message (Anthropic or OpenAI wire format) is an injected fault, not a scripted turn."""
    if message.get("role") != "assistant":
        return False
    content = message.get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "tool_use" and FAULT_ID_MARK in str(block.get("id")):
            return True
        if block.get("type") == "text" and str(block.get("text", "")).startswith(CUT_OFF_TEXT):
            return True
    return any(FAULT_ID_MARK in str(call.get("id")) for call in message.get("tool_calls") or ())


def real_turn(body: Mapping[str, Any]) -> int:
    """How many of the conversation's assistant turns were the model's own (not injected faults)."""
    return sum(1 for m in body.get("messages") or () if m.get("role") == "assistant" and not is_injected(m))


def wrong_types(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool with this input schema where every required one has the wrong JSON type."""
    properties = schema.get("properties") or {}
    names = list(schema.get("required") or ()) or list(properties)[:1] or ["input"]
    return {n: 12345 if (properties.get(n) or {}).get("type") == "string" else "not-a-number" for n in names}
