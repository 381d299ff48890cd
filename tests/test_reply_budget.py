"""Issue 20: max_tokens fits inside the model's context window instead of failing the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from autodev.agent.context_window import MIN_REPLY_TOKENS, WINDOW_STOP_MARK
from autodev.agent.runtime import AgentInputs, AgentOutcome, run_agent
from autodev.agent.specs import AgentSpec
from autodev.core.metrics import MetricsSink
from autodev.models import ModelRequest, ModelResponse, Usage
from autodev.models.fakes.scripted import RecordingModel, ScriptedProvider
from autodev.models.sizing import request_tokens
from autodev.sandbox.workspace import Workspace

SPEC = AgentSpec(name="planner", description="Plans.", prompt="You are the planner.", source=Path("p.md"), tools=())


def run(tmp_path: Path, context_window: int | None) -> tuple[AgentOutcome, RecordingModel]:
    model = RecordingModel(ScriptedProvider({"agents": {"planner": [{"text": "## Goal\nplan"}]}}).model("local"))
    inputs = planner_inputs(tmp_path, model, max_tokens=8192, context_window=context_window)
    return anyio.run(run_agent, inputs), model


def planner_inputs(tmp_path: Path, model: Any, **limits: Any) -> AgentInputs:
    """The planner on `model` with an empty tool set; `limits`: max_tokens, context_window."""
    return AgentInputs(
        spec=SPEC,
        model=model,
        task="Plan it.",
        workspace=Workspace(tmp_path),
        tools={},
        run_id="r",
        session_path=tmp_path / "s.md",
        metrics=MetricsSink(tmp_path / "m.jsonl"),
        **limits,
    )


def test_max_tokens_is_lowered_to_fit_a_small_context_window(tmp_path: Path) -> None:
    outcome, model = run(tmp_path, 8192)  # a local model whose whole window is the default max_tokens
    assert outcome.ok, outcome.error
    sent = model.requests[0]
    assert sent.max_tokens == 8192 - request_tokens(sent)
    assert sent.max_tokens >= MIN_REPLY_TOKENS


def test_max_tokens_is_kept_when_it_fits_or_the_window_is_unknown(tmp_path: Path) -> None:
    assert run(tmp_path, 200_000)[1].requests[0].max_tokens == 8192
    assert run(tmp_path / "x", None)[1].requests[0].max_tokens == 8192


def test_a_window_too_small_for_a_useful_reply_is_still_refused(tmp_path: Path) -> None:
    outcome, model = run(tmp_path, MIN_REPLY_TOKENS)
    assert not outcome.ok and model.requests == []
    assert outcome.error is not None and "context window" in outcome.error


@dataclass
class WindowFillingModel:
    """Answers like llama.cpp's server when its context fills: finish_reason "length", prompt + reply = n_ctx."""

    model_id: str = "local"
    provider: str = "openai"
    requests: list[ModelRequest] = field(default_factory=list)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        usage = Usage(input_tokens=3100, output_tokens=1000)
        return ModelResponse("## Goal\nA plan that ran out of ro", (), usage, "local", stop_reason="max_tokens")


def test_a_stop_by_the_context_window_is_not_asked_again_whole(tmp_path: Path) -> None:
    """Issue 20: it was labelled "cut off at max_tokens" and re-sent whole, overflowing the window (a 400)."""
    model = WindowFillingModel()
    outcome = anyio.run(run_agent, planner_inputs(tmp_path, model, context_window=4096))
    assert outcome.ok and len(model.requests) == 1
    assert outcome.handoff.endswith(WINDOW_STOP_MARK.format(output=1000, window=4096))
