"""The recorder: everything a run writes down about itself — state.json, metrics.jsonl and events.

One place for the three records, so an agent's transition, its handoff, its checkpoint and the
run's cost are saved together (one state save per agent), and its metric record and the event the
CLI shows say the same thing. Both engines record through it: the local run for the whole run, a
Temporal activity for the one step it runs (its records travel home as artifacts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autodev.agent.context.counting import count_tokens
from autodev.agent.context.handoffs import fit_handoffs
from autodev.agent.runtime import AgentOutcome
from autodev.core.clock import iso, utc_now
from autodev.core.metrics import MetricsSink, agent_record
from autodev.core.records import CallRecord
from autodev.core.usage import Usage
from autodev.models.pricing import total_cost
from autodev.run.events import Reporter, RunEvent, describe_call
from autodev.run.state import AgentState, Checkpoint, HandoffBudget, StateStore


@dataclass
class Recorder:
    store: StateStore
    metrics: MetricsSink
    report: Reporter
    run_id: str
    provider: str  # the provider's name, for metric records

    @property
    def agents(self) -> dict[str, AgentState]:
        return self.store.state.agents

    def save(self) -> None:
        self.store.save()

    def warn(self, message: str) -> None:
        """A warning kept in state.json (once) and shown."""
        if message not in self.store.state.warnings:
            self.store.state.warnings.append(message)
            self.report(RunEvent("note", None, message))

    def remember(self, message: str) -> None:
        """A warning kept in state.json (once) and shown with the run's outcome only: one about the figures
        the outcome shows (a model without a price, so no cost), which would otherwise be said twice."""
        if message not in self.store.state.warnings:
            self.store.state.warnings.append(message)

    def note(self, agent: str | None, message: str) -> None:
        self.report(RunEvent("note", agent, message))

    def skipped(self, name: str, reason: str, tier: str, model: str | None) -> None:
        self.store.agent(name).skip(reason)
        self._agent_record(name, tier, model, status="skipped", skip_reason=reason)
        self.report(RunEvent("agent_skipped", name, reason))

    def blocked(self, name: str, reason: str) -> None:
        self.report(RunEvent("agent_blocked", name, reason))

    def started(self, name: str, tier: str, model: str) -> None:
        """The agent's new run begins: saved first, so a run killed now restarts this agent."""
        agent = self.store.agent(name)
        agent.start(iso(utc_now()))
        self.save()
        self.report(RunEvent("agent_started", name, model, data={"tier": tier, "run": agent.runs}))

    def turn(self, outcome: AgentOutcome) -> None:
        usage = outcome.usage
        data = {
            "turns": outcome.turns,
            "input_tokens": usage.context_tokens,
            "output_tokens": usage.output_tokens,
            "cost_usd": outcome.cost_usd,
        }
        self.report(RunEvent("agent_turn", outcome.agent, data=data))

    def tool(self, agent: str, tool: str, arguments: Mapping[str, Any]) -> None:
        """An agent starts a tool call: the live view shows what it is on (`Edit textkit/strings.py`)."""
        self.report(RunEvent("agent_tool", agent, describe_call(tool, arguments), data={"tool": tool}))

    def cut_off(self, name: str, calls: list[CallRecord]) -> None:
        """The calls an interrupted run of `name` made were paid for: its `interrupted` agent record."""
        usage = sum((call.usage for call in calls), Usage())
        cost = total_cost(*(call.cost_usd for call in calls))
        state = self.store.state
        state.cost_usd = total_cost(state.cost_usd, cost)
        agent = state.agents[name]
        self._agent_record(
            name, agent.tier or "", agent.model, status="interrupted", turns=len(calls), usage=usage, cost_usd=cost
        )

    def stopped(self, name: str, tier: str, outcome: AgentOutcome, reason: str) -> None:
        """The run's cost cap refused the agent's next call: its calls so far were paid for (an `interrupted`
        agent record), and it is cut off, not ended, so a resumed run (and a replayed script) starts it afresh."""
        state = self.store.state
        state.cost_usd = total_cost(state.cost_usd, outcome.cost_usd)
        agent = self.store.agent(name)
        agent.cancel(reason)
        agent.ended_at = iso(outcome.ended_at)
        self.save()
        self._agent_record(
            name,
            tier,
            outcome.model,
            status="interrupted",
            started_at=outcome.started_at,
            ended_at=outcome.ended_at,
            turns=outcome.turns,
            tool_calls=outcome.tool_calls,
            usage=outcome.usage,
            cost_usd=outcome.cost_usd,
            context_tokens=outcome.context_tokens,
        )
        self.report(RunEvent("agent_finished", name, agent.status, data=_figures(outcome)))

    def finished(
        self, name: str, tier: str, outcome: AgentOutcome, *, budget_tokens: int, refusals: int, checkpoint: str | None
    ) -> None:
        """The agent's run ended: its transition, handoff, checkpoint and the run's cost in one save."""
        state = self.store.state
        agent = self.store.agent(name)
        agent.end(
            outcome.ok,
            error=outcome.error,
            model=outcome.model,
            started_at=iso(outcome.started_at),
            ended_at=iso(outcome.ended_at),
            handoff=outcome.handoff,
        )
        if outcome.ok:
            self.fit_handoffs(budget_tokens)
        if checkpoint is not None:  # saved with the transition: state.json and the branch agree
            agent.checkpoint = state.checkpoint = checkpoint
            state.checkpoints.append(Checkpoint(name, agent.runs, checkpoint, iso(utc_now())))
        state.cost_usd = total_cost(state.cost_usd, outcome.cost_usd)
        self.save()
        record = agent_record(
            run_id=self.run_id,
            agent=name,
            tier=tier,
            model=outcome.model,
            provider=self.provider,
            status=agent.status,
            started_at=outcome.started_at,
            ended_at=outcome.ended_at,
            turns=outcome.turns,
            tool_calls=outcome.tool_calls,
            usage=outcome.usage,
            context_tokens=outcome.context_tokens,
            handoff_tokens=outcome.handoff_tokens,
            cost_usd=outcome.cost_usd,
            refusals=refusals,  # tool calls refused by the sandbox
            compactions=outcome.compactions,  # turns whose context was compacted to fit context_tokens
            elided_tokens=outcome.elided_tokens,
        )
        self.metrics.write(record)
        self.report(RunEvent("agent_finished", name, agent.status, data=_figures(outcome)))

    def fit_handoffs(self, budget_tokens: int) -> None:
        """Keep all handoffs together within `budget_tokens`, compacting the largest first."""
        agents = self.agents
        current = {name: agent.handoff for name, agent in agents.items() if agent.status == "done" and agent.handoff}

        def note(name: str, tokens: int) -> str:
            return (
                f"[handoff compacted to ~{tokens} tokens for the run's handoff budget; full text in sessions/{name}.md]"
            )

        fitted, report = fit_handoffs(current, budget_tokens, count_tokens, note)
        for name, text in fitted.items():
            agents[name].handoff = text
        state = self.store.state
        newer = HandoffBudget(report.budget, report.total, dict(report.per_agent), dict(report.compacted))
        state.handoff_budget = state.handoff_budget.merged(newer)
        if report.over:
            self.warn(f"handoffs total {report.total} tokens, over the {report.budget}-token budget even compacted")

    def _agent_record(self, name: str, tier: str, model: str | None, **fields: Any) -> None:
        self.metrics.write(
            agent_record(run_id=self.run_id, agent=name, tier=tier, model=model, provider=self.provider, **fields)
        )


def _figures(outcome: AgentOutcome) -> dict[str, Any]:
    """What the `agent_finished` event says about an agent's run."""
    return {
        "duration_s": (outcome.ended_at - outcome.started_at).total_seconds(),
        "turns": outcome.turns,
        "input_tokens": outcome.usage.context_tokens,  # the whole prompt, as the live table counts it
        "cache_read_tokens": outcome.usage.cache_read_tokens,  # of which read from the provider's cache
        "output_tokens": outcome.usage.output_tokens,
        "cost_usd": outcome.cost_usd,
        "error": outcome.error,
    }
