"""One agent, start to finish: prompt, the tool-use loop, the handoff, and its measurements.

`run_agent` is a function of its inputs (spec, model, task, workspace, sinks) returning an
`AgentOutcome`; it never raises for a model or tool failure, so the scheduler can decide what a
failure means for the rest of the graph. This shape is what a durable engine needs later (an agent
run as one activity).

A model's mistakes cost a turn, not the run: a call with arguments that are not JSON or do not match
the tool's schema, or to a tool it was not offered, is answered with an error result it can correct.
A reply cut off at `max_tokens` is not taken as the answer: the model is asked again for a complete
one (a cut-off tool call is not run), at most `MAX_CUT_OFF_REPLIES` times in a row, after which the
partial answer is taken, marked as cut off. A model that keeps calling tools gets a last turn without
them, and fails the agent with a clear error if it still will not stop. A final reply that cannot be
the handoff (a tool call written as text, a verdict agent's reply with no readable verdict, a handoff
without its declared sections) gets one corrective turn of each kind (`agent.corrections`), beyond
`max_turns`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from autodev.agent.context.compaction import cached_counter, compact, fixed_tokens
from autodev.agent.context_window import WINDOW_STOP_MARK, fit_reply, prompt_budget, window_full_stop, window_problem
from autodev.agent.corrections import Correction, Kind, correction_for
from autodev.agent.specs import AgentSpec
from autodev.agent.verdicts import with_answer
from autodev.core import otel
from autodev.core.clock import utc_now
from autodev.core.metrics import MetricsSink, call_record
from autodev.core.redact import redact
from autodev.core.tokens import cap_to_tokens, estimate_tokens
from autodev.models import (
    Message,
    Model,
    ModelError,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCall,
    ToolResultPart,
    Usage,
)
from autodev.models.cost_cap import CostCap, CostCapReached, Reservation
from autodev.models.pricing import total_cost
from autodev.models.sizing import request_tokens
from autodev.sandbox.jail import Jail
from autodev.sandbox.workspace import Workspace
from autodev.tools.arguments import argument_problems, describe_parameters
from autodev.tools.base import Tool, ToolContext, invoke, valid_text

FINAL_TURN_NOTE = "You have reached your turn limit. Reply now with your final handoff; no more tool calls."
CUT_OFF_NOTE = (
    "Your last reply was cut off at the output limit ({max_tokens:,} tokens) before it was complete. "
    "Reply again with your complete answer, more concisely."
)
CUT_OFF_CALL = (
    "Error: this call was cut off at the output limit ({max_tokens:,} tokens) before its arguments were "
    "complete, so it was not run. Send it again, smaller (several Edit calls instead of one large Write)."
)
CUT_OFF_MARK = "[reply cut off at the output limit of {max_tokens:,} tokens]"
MAX_CUT_OFF_REPLIES = 3  # in a row; then the partial answer is taken, marked
SESSION_RESULT_CAP = 20_000


@dataclass
class AgentOutcome:
    agent: str
    ok: bool
    handoff: str
    model: str
    started_at: datetime
    ended_at: datetime
    error: str | None = None
    turns: int = 0
    tool_calls: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    context_tokens: list[int] = field(default_factory=list)
    handoff_tokens: int = 0
    handoff_truncated: bool = False
    cost_usd: float | None = 0.0  # None once any call could not be priced: a partial sum would mislead
    calls: int = 0
    compactions: int = 0  # turns whose context had to be compacted to fit spec.context_tokens
    elided_tokens: int = 0  # tokens those compactions removed (counted offline, o200k)
    cap_reached: str | None = None  # the run's cost cap refused this agent's next call (it was not made)

    def add_cost(self, cost: float | None) -> None:
        self.calls += 1
        self.cost_usd = total_cost(self.cost_usd, cost)


@dataclass
class AgentInputs:
    spec: AgentSpec
    model: Model
    task: str
    workspace: Workspace
    tools: Mapping[str, Tool]
    run_id: str
    session_path: Path
    metrics: MetricsSink
    max_tokens: int = 8192
    run_tests: Callable[[], Awaitable[str]] | None = None
    session_label: str = ""
    context: str = ""  # shared with agents running alongside; cacheable
    web_search: bool = False
    price: Callable[[str, Usage], float | None] | None = None
    context_window: int | None = None
    on_turn: Callable[[AgentOutcome], None] | None = None  # live progress: called after every model reply
    on_tool: Callable[[str, str, Mapping[str, Any]], None] | None = None  # live progress: (agent, tool, arguments)
    jail: Jail | None = None  # where Bash runs its programs (a run always gives one)
    cost_cap: CostCap | None = None  # the run's `max_cost_usd`, checked before every call


class _Session:
    """Appends the agent's full conversation to its session file as it happens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, text: str) -> None:
        # a model's bad bytes (a lone surrogate) are written escaped, never crash the log
        with self.path.open("a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(redact(text).rstrip("\n") + "\n\n")


async def _call_model(inputs: AgentInputs, request: ModelRequest, outcome: AgentOutcome) -> ModelResponse:
    with otel.chat_span(inputs.model.model_id, inputs.model.provider, request.max_tokens) as span:
        response = await _measured_call(inputs, request, outcome)
        otel.record_response(span, response.model, response.usage, response.stop_reason)
        return response


async def _measured_call(inputs: AgentInputs, request: ModelRequest, outcome: AgentOutcome) -> ModelResponse:
    if inputs.cost_cap is None:
        return await _priced_call(inputs, request, outcome, None)
    with inputs.cost_cap.reserve(inputs.model.model_id, request_tokens(request), request.max_tokens) as held:
        return await _priced_call(inputs, request, outcome, held)


async def _priced_call(
    inputs: AgentInputs, request: ModelRequest, outcome: AgentOutcome, held: Reservation | None
) -> ModelResponse:
    started, clock = utc_now(), time.perf_counter()
    try:
        response = await inputs.model.complete(request)
    except Exception as exc:
        inputs.metrics.write(
            call_record(
                run_id=inputs.run_id,
                agent=inputs.spec.name,
                model=inputs.model.model_id,
                started_at=started,
                duration_s=time.perf_counter() - clock,
                attempts=exc.attempts if isinstance(exc, ModelError) else 1,
                status="error",
                usage=Usage(),
                queued_s=getattr(exc, "queued_s", 0.0),
            )
        )
        raise
    cost = inputs.price(response.model, response.usage) if inputs.price else None
    outcome.add_cost(cost)
    if held is not None:
        held.settle(cost)
    record = call_record(
        run_id=inputs.run_id,
        agent=inputs.spec.name,
        model=response.model,
        started_at=started,
        duration_s=time.perf_counter() - clock,
        attempts=response.attempts,
        status="ok",
        usage=response.usage,
        cost_usd=cost,
        usage_estimated=response.usage_estimated,
        queued_s=response.queued_s,
    )
    inputs.metrics.write(record)
    return response


async def run_agent(inputs: AgentInputs) -> AgentOutcome:
    model = inputs.model
    with otel.agent_span(inputs.spec.name, model.model_id, model.provider, inputs.run_id) as span:
        outcome = await _run_agent(inputs)
        otel.record_response(span, outcome.model, outcome.usage)
        if not outcome.ok:
            otel.record_failure(span, "agent_failed", outcome.error or "failed")
        return outcome


async def _run_tool(inputs: AgentInputs, call: ToolCall, ctx: ToolContext) -> tuple[str, bool]:
    """One tool call -> (result text, is_error); a bad call is an error result for the model, never an exception."""
    with otel.tool_span(call.name, call.id) as span:
        tool = inputs.tools.get(call.name)
        if call.input_error:
            error_type, text = "invalid_input", f"Error: {call.input_error}. Call {call.name} again with valid JSON."
        elif tool is None:
            error_type, text = (
                "unknown_tool",
                f"Error: unknown tool {call.name!r}; available: {', '.join(inputs.tools)}",
            )
        elif problems := argument_problems(tool.definition.input_schema, call.input):
            error_type = "invalid_input"
            text = (
                f"Error: invalid arguments for {call.name}: {'; '.join(problems)}. Call {call.name} again with "
                f"its parameters: {describe_parameters(tool.definition.input_schema)}."
            )
        else:
            result = await invoke(tool, call.input, ctx)
            if not result.is_error:
                return result.content, False
            error_type, text = "tool_error", result.content
        otel.record_failure(span, error_type, text)
        return text, True


async def _run_agent(inputs: AgentInputs) -> AgentOutcome:
    spec = inputs.spec
    session = _Session(inputs.session_path)
    outcome = AgentOutcome(spec.name, False, "", inputs.model.model_id, utc_now(), utc_now())
    definitions = tuple(inputs.tools[name].definition for name in sorted(inputs.tools))
    ctx = ToolContext(inputs.workspace, spec.name, inputs.run_tests, inputs.jail, reads=set())
    messages: list[Message] = [Message("user", (TextPart(inputs.task),))]
    count = cached_counter()
    cut_offs = 0  # replies cut off at max_tokens in a row
    corrections: set[Kind] = set()  # kinds of corrective turn already given (each at most once)
    session.write(
        f"# {spec.name}{inputs.session_label} — model {inputs.model.model_id}, started {outcome.started_at}\n\n"
        + (f"## Shared context\n\n{inputs.context}\n\n" if inputs.context else "")
        + f"## Task\n\n{inputs.task}"
    )
    try:
        turn, limit = 0, spec.max_turns  # each corrective turn adds one to the limit
        correcting: Correction | None = None  # the correction the coming turn answers
        earlier = ""  # the reply a verdict re-ask completes
        while turn < limit:
            turn += 1
            final_turn = turn == limit and bool(definitions) and correcting is None
            if final_turn:
                last = messages[-1]
                messages[-1] = Message(last.role, (*last.parts, TextPart(FINAL_TURN_NOTE)))
            offers_tools = not final_turn and (correcting is None or correcting.tools)
            tools = definitions if offers_tools else ()
            fixed = fixed_tokens(spec.prompt, inputs.context, tools, count)
            compaction = compact(
                messages,
                budget=prompt_budget(inputs.context_window, inputs.spec.context_tokens),
                fixed=fixed,
                count=count,
            )
            if compaction.changed:
                messages = list(compaction.messages)
                outcome.compactions += 1
                outcome.elided_tokens += compaction.elided_tokens
                session.write(
                    f"_context compacted before turn {turn}: {compaction.tokens_before:,} → "
                    f"{compaction.tokens_after:,} tokens (budget {compaction.budget:,}); "
                    f"{compaction.stubbed} tool result(s) stubbed, {compaction.cut} cut head-and-tail, "
                    f"{compaction.elided_tokens:,} tokens elided"
                    + ("" if compaction.within_budget else "; still over budget")
                    + "_"
                )
            request = ModelRequest(
                agent=spec.name,
                system=spec.prompt,
                messages=tuple(messages),
                tools=tools,
                max_tokens=inputs.max_tokens,
                context=inputs.context,
                web_search=inputs.web_search and offers_tools,
            )
            request = fit_reply(inputs.context_window, request)
            problem = window_problem(inputs.context_window, inputs.model.model_id, request)
            if problem:
                outcome.error = problem
                return outcome
            response = await _call_model(inputs, request, outcome)
            outcome.turns, outcome.model = turn, response.model
            outcome.usage = outcome.usage + response.usage
            outcome.context_tokens.append(response.usage.context_tokens)
            if inputs.on_turn is not None:
                inputs.on_turn(outcome)
            messages.append(response.as_message())
            session.write(f"## Turn {turn}\n\n{response.text}".rstrip())
            cut_off = response.stop_reason == "max_tokens"
            window_full = cut_off and window_full_stop(inputs.context_window, response)
            cut_offs = MAX_CUT_OFF_REPLIES if window_full else (cut_offs + 1 if cut_off else 0)
            limit_note = {"max_tokens": request.max_tokens}
            answered, correcting = correcting, None
            ignores_calls = answered is not None and not answered.tools  # a reply-only corrective turn
            if not response.tool_calls or ignores_calls:
                if cut_off and turn < limit and cut_offs < MAX_CUT_OFF_REPLIES:
                    session.write(f"_reply cut off at max_tokens={request.max_tokens:,}; asked for a complete one_")
                    messages.append(Message("user", (TextPart(CUT_OFF_NOTE.format(**limit_note)),)))
                    correcting = answered  # the same correction is still owed
                    continue
                text = response.text
                if answered is not None and answered.append:
                    text = with_answer(earlier, text)
                if not cut_off:
                    names = set(inputs.tools) if offers_tools or answered is not None else set()
                    correcting = correction_for(spec, text, names, corrections)
                if correcting is not None:
                    corrections.add(correcting.kind)
                    earlier, limit = text, limit + 1
                    session.write(f"_corrective turn ({correcting.kind}): {correcting.note}_")
                    messages.append(Message("user", (TextPart(correcting.note),)))
                    continue
                if cut_off:
                    mark = (
                        WINDOW_STOP_MARK.format(output=response.usage.output_tokens, window=inputs.context_window)
                        if window_full
                        else CUT_OFF_MARK.format(**limit_note)
                    )
                    text = f"{text}\n\n{mark}".lstrip()
                note = f"[handoff cut to {spec.output_tokens} tokens; full text in {inputs.session_path.name}]"
                outcome.handoff, outcome.handoff_truncated = cap_to_tokens(valid_text(text), spec.output_tokens, note)
                outcome.handoff_tokens = estimate_tokens(outcome.handoff)
                outcome.ok = True
                return outcome
            if final_turn:
                outcome.error = f"did not finish within max_turns={spec.max_turns}"
                return outcome
            results = []
            for index, call in enumerate(response.tool_calls):
                outcome.tool_calls[call.name] += 1
                if cut_off and index == len(response.tool_calls) - 1:  # its arguments may be incomplete
                    result_text, is_error = CUT_OFF_CALL.format(**limit_note), True
                else:
                    if inputs.on_tool is not None:
                        inputs.on_tool(spec.name, call.name, call.input)
                    result_text, is_error = await _run_tool(inputs, call, ctx)
                results.append(ToolResultPart(call.id, result_text, is_error))
                shown = (
                    result_text
                    if len(result_text) <= SESSION_RESULT_CAP
                    else result_text[:SESSION_RESULT_CAP] + "\n[...]"
                )
                sent = call.raw_arguments if call.input_error and call.raw_arguments is not None else None
                session.write(
                    f"→ {call.name} {sent or json.dumps(dict(call.input), ensure_ascii=False)}\n\n"
                    f"← {'ERROR ' if is_error else ''}{shown}"
                )
            messages.append(Message("user", tuple(results)))
        outcome.error = f"did not finish within max_turns={spec.max_turns}"
        return outcome
    except ModelError as exc:
        outcome.error = f"model error: {exc}"
        return outcome
    except CostCapReached as exc:  # the call was not made: the run stops here, resumably
        outcome.error = outcome.cap_reached = str(exc)
        return outcome
    finally:
        outcome.ended_at = utc_now()
        session.write(f"_ended {outcome.ended_at}: {'ok' if outcome.ok else outcome.error}_")
