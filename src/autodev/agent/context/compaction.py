"""Working-context compaction: keep an agent's conversation within its `context_tokens` budget.

Before each model call the runtime counts the request and, when it is over budget, calls `compact`:

1. **Stub old tool results, oldest first.** Each result's content becomes one line naming the call (tool
   and its main argument, e.g. the path), how many tokens were elided, and that the tool can be called
   again. Stubbing stops as soon as the request fits.
2. **Cut the largest remaining results head-and-tail** if stubbing was not enough (or not allowed), keeping
   the beginning and the end with a marker saying how many tokens and lines were left out.

Never touched: the system prompt, the shared context and the tool definitions (counted as
`fixed_tokens`), the task (the first message), every assistant message, and the latest turn's results
are never stubbed (they may only be cut head-and-tail, as a last resort). A result block is never
deleted, only its content replaced, so every tool call keeps its result and tool_use/tool_result pairing
stays valid for every provider.

Counting uses the offline o200k_base counter (`count_tokens`) on the text of each part, not
`request_tokens` (a 4-characters-per-token estimate): compaction decides what the model gets to see, so
it uses the better count. It ignores the providers' per-message framing, so it is a few percent off the
providers' reported usage; provider-reported usage stays the truth in metrics. Everything here is a pure
function of its inputs (the counter is passed in), so it is tested without I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from autodev.agent.context.counting import count_tokens
from autodev.models import Message, Part, TextPart, ToolCall, ToolDefinition, ToolResultPart

TokenCounter = Callable[[str], int]

STUB_PREFIX = "[elided to fit the context budget:"
CUT_FLOOR_TOKENS = 200  # a head-and-tail cut keeps at least this much of a result
MAIN_ARGUMENT_KEYS = ("file_path", "path", "pattern", "command", "query", "url", "name", "skill")
MAIN_ARGUMENT_CHARS = 120


@dataclass(frozen=True)
class Compaction:
    """What `compact` did. `messages` is the (possibly) compacted conversation, to send and to keep."""

    messages: tuple[Message, ...]
    tokens_before: int  # the whole request: fixed part plus messages
    tokens_after: int
    budget: int
    stubbed: int = 0  # tool results replaced by a one-line stub
    cut: int = 0  # tool results cut head-and-tail
    elided_tokens: int = 0

    @property
    def changed(self) -> bool:
        return self.stubbed + self.cut > 0

    @property
    def within_budget(self) -> bool:
        return self.tokens_after <= self.budget


def cached_counter(count: TokenCounter = count_tokens, maxsize: int = 4096) -> TokenCounter:
    """A memoised counter, so a long conversation is not re-tokenised in full before every call."""
    return functools.lru_cache(maxsize=maxsize)(count)


def fixed_tokens(system: str, context: str, tools: Sequence[ToolDefinition], count: TokenCounter) -> int:
    """Tokens of the parts of a request compaction never touches: system prompt, shared context, tools."""
    total = count(system) + count(context)
    for tool in tools:
        total += count(tool.name) + count(tool.description) + count(json.dumps(dict(tool.input_schema)))
    return total


def part_tokens(part: Part, count: TokenCounter) -> int:
    if isinstance(part, TextPart):
        return count(part.text)
    if isinstance(part, ToolResultPart):
        return count(part.content)
    if isinstance(part, ToolCall):
        return count(part.name) + count(json.dumps(dict(part.input), ensure_ascii=False))
    return count(json.dumps(dict(part.data), ensure_ascii=False, default=str))


def messages_tokens(messages: Sequence[Message], count: TokenCounter) -> int:
    return sum(part_tokens(part, count) for message in messages for part in message.parts)


def describe_call(call: ToolCall | None) -> str:
    """`Read(file_path="src/x.py")`: the tool and its main argument, for a stub or a marker."""
    if call is None:
        return "a tool call"
    strings = {key: value for key, value in call.input.items() if isinstance(value, str)}
    key = next((key for key in MAIN_ARGUMENT_KEYS if key in strings), next(iter(strings), None))
    if key is None:
        return f"{call.name}()"
    value = strings[key]
    shown = value if len(value) <= MAIN_ARGUMENT_CHARS else value[: MAIN_ARGUMENT_CHARS - 1] + "…"
    return f"{call.name}({key}={json.dumps(shown, ensure_ascii=False)})"


def stub_text(call: ToolCall | None, elided: int) -> str:
    name = call.name if call is not None else "the tool"
    return f"{STUB_PREFIX} {describe_call(call)} returned {elided:,} tokens; call {name} again if you need them]"


def cut_head_and_tail(text: str, keep_tokens: int, call: ToolCall | None, count: TokenCounter) -> str:
    """`text` cut to about `keep_tokens`: its beginning and end, with a marker for what was left out."""
    total = count(text)
    if total <= keep_tokens:
        return text
    name = call.name if call is not None else "the tool"
    keep_chars = int(len(text) * keep_tokens / total)
    result = text
    for _ in range(6):  # the char/token ratio is not uniform: shrink until the count fits
        head, tail = text[: keep_chars // 2], text[len(text) - keep_chars // 2 :]
        middle = text[len(head) : len(text) - len(tail)]
        marker = (
            f"\n[... {count(middle):,} tokens ({middle.count(chr(10)) + 1:,} lines) cut from the middle to fit "
            f"the context budget; call {name} again (narrower) to see them ...]\n"
        )
        result = head + marker + tail
        if count(result) <= keep_tokens or keep_chars == 0:
            break
        keep_chars = int(keep_chars * 0.8)
    return result


def _latest_turn_start(messages: Sequence[Message]) -> int:
    """Index of the newest assistant message: it and what follows are the latest turn."""
    for index in range(len(messages) - 1, 0, -1):
        if messages[index].role == "assistant":
            return index
    return len(messages)


def compact(messages: Sequence[Message], *, budget: int, fixed: int, count: TokenCounter) -> Compaction:
    """Fit `fixed + messages` within `budget` tokens by stubbing, then cutting, tool results.

    Returns the messages unchanged when they already fit. When even the fully compacted conversation
    does not fit (a huge task, say), returns the best it could do; `within_budget` is then False.
    """
    current = [list(message.parts) for message in messages]
    calls = {
        part.id: part for message in messages if message.role == "assistant" for part in message.parts
        if isinstance(part, ToolCall)
    }  # fmt: skip
    before = fixed + messages_tokens(messages, count)
    total, stubbed, cut, elided = before, 0, 0, 0

    def result_at(i: int, j: int) -> ToolResultPart:
        part = current[i][j]
        assert isinstance(part, ToolResultPart)
        return part

    results = [
        (i, j)
        for i, message in enumerate(messages)
        if i > 0
        for j, part in enumerate(message.parts)
        if isinstance(part, ToolResultPart)
    ]
    latest = _latest_turn_start(messages)
    for i, j in results:  # oldest first
        if total <= budget:
            break
        if i >= latest:
            break
        part = result_at(i, j)
        if part.content.startswith(STUB_PREFIX):
            continue
        size = count(part.content)
        stub = stub_text(calls.get(part.tool_call_id), size)
        saved = size - count(stub)
        if saved <= 0:
            continue
        current[i][j] = replace(part, content=stub)
        total, stubbed, elided = total - saved, stubbed + 1, elided + saved

    cuttable = [(i, j) for i, j in results if not result_at(i, j).content.startswith(STUB_PREFIX)]
    while total > budget and cuttable:
        i, j = max(cuttable, key=lambda ij: count(result_at(*ij).content))
        cuttable.remove((i, j))
        part = result_at(i, j)
        size = count(part.content)
        keep = max(CUT_FLOOR_TOKENS, size - (total - budget))
        if keep >= size:
            continue
        shortened = cut_head_and_tail(part.content, keep, calls.get(part.tool_call_id), count)
        saved = size - count(shortened)
        if saved <= 0:
            continue
        current[i][j] = replace(part, content=shortened)
        total, cut, elided = total - saved, cut + 1, elided + saved

    if not stubbed and not cut:
        return Compaction(tuple(messages), before, before, budget)
    compacted = tuple(Message(message.role, tuple(parts)) for message, parts in zip(messages, current, strict=True))
    after = fixed + messages_tokens(compacted, count)
    return Compaction(compacted, before, after, budget, stubbed, cut, elided)
