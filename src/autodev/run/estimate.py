"""What a run (or the rest of one) is estimated to cost, before it spends it.

Two sources, and each estimate says which it came from, per agent and as a whole:

- **history**: this repository's own earlier runs (`.autodev/runs/*/metrics.jsonl`). Every earlier run
  of an agent is one sample: the tokens it used in that run, reruns and cut-off calls included, priced
  at today's price of the model that will serve it now (the recorded cost when that model has no
  price). The estimate is the median (p50) and the 95th percentile (p95, nearest rank) of the samples.
- **priors**: for an agent this repository has never run, token counts typical of its kind of work
  (below), priced from the price table with no cache discount: a first guess, labelled as one.

An agent whose model has no price has no estimate (None), and neither has the total: a guess made
from part of the run would pass for the whole (as with `models.pricing.total_cost`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from autodev.core.records import AgentRecord, of_kind, read_metrics
from autodev.core.usage import Usage
from autodev.models.pricing import PriceTable, load_price_table, total_cost
from autodev.run.layout import list_runs
from autodev.run.plan import RunPlan

Source = Literal["history", "priors"]
HISTORY_RUNS = 50  # the newest runs read: enough for a p95, quick to read


@dataclass(frozen=True)
class Prior:
    """Typical tokens of one agent run: p50 and p95, input (everything re-read over its turns) and output."""

    p50: Usage
    p95: Usage


def _prior(p50_in: int, p50_out: int, p95_in: int, p95_out: int) -> Prior:
    return Prior(Usage(p50_in, p50_out), Usage(p95_in, p95_out))


# Token priors for the built-in agents, from runs of the feature pipeline on small and mid-sized
# repositories: an agent re-reads its growing conversation every turn, so input dominates.
PRIORS: dict[str, Prior] = {
    "researcher-local": _prior(60_000, 2_000, 200_000, 5_000),
    "researcher-web": _prior(30_000, 1_500, 120_000, 4_000),
    "planner": _prior(25_000, 3_000, 80_000, 8_000),
    "test-master": _prior(80_000, 5_000, 300_000, 15_000),
    "implementer": _prior(150_000, 10_000, 600_000, 30_000),
    "reviewer": _prior(60_000, 2_000, 200_000, 6_000),
    "security-auditor": _prior(40_000, 1_500, 150_000, 5_000),
    "doc-master": _prior(40_000, 2_000, 150_000, 6_000),
    "issue-creator": _prior(20_000, 2_000, 60_000, 5_000),
}
DEFAULT_PRIOR = _prior(50_000, 3_000, 200_000, 10_000)  # an agent of the repository's own


@dataclass(frozen=True)
class AgentEstimate:
    agent: str
    model: str | None
    source: Source
    samples: int  # earlier runs of the agent the history estimate is made from (0: priors)
    p50_usd: float | None
    p95_usd: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "model": self.model,
            "source": self.source,
            "samples": self.samples,
            "p50_usd": _rounded(self.p50_usd),
            "p95_usd": _rounded(self.p95_usd),
        }


@dataclass(frozen=True)
class CostEstimate:
    agents: tuple[AgentEstimate, ...]

    @property
    def p50_usd(self) -> float | None:
        return total_cost(*(agent.p50_usd for agent in self.agents))

    @property
    def p95_usd(self) -> float | None:
        return total_cost(*(agent.p95_usd for agent in self.agents))

    @property
    def source(self) -> str:
        """`history`, `priors`, `history and priors`, or `none` (no agent to run)."""
        sources = {agent.source for agent in self.agents}
        return " and ".join(sorted(sources)) if sources else "none"

    def describe(self) -> str:
        """One line: the range and where it comes from."""
        if self.p50_usd is None or self.p95_usd is None:
            if any(agent.model is None for agent in self.agents):
                return "unknown until a provider is configured (no model serves the agents yet)"
            unpriced = sorted({str(a.model) for a in self.agents if a.p50_usd is None})
            return f"unknown: no price for {', '.join(unpriced)}"
        runs = max((agent.samples for agent in self.agents), default=0)
        origin = {
            "history": f"from this repository's history ({runs} earlier run(s))",
            "priors": "from per-agent token priors and the price table (no history yet)",
            "history and priors": f"from this repository's history ({runs} earlier run(s)) and, for agents "
            "it has not run, per-agent token priors",
            "none": "nothing to run",
        }[self.source]
        return f"${self.p50_usd:.4f} (p50) to ${self.p95_usd:.4f} (p95), {origin}"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "p50_usd": _rounded(self.p50_usd),
            "p95_usd": _rounded(self.p95_usd),
            "agents": [agent.to_json() for agent in self.agents],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in (0, 1]) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Sample:
    """One earlier run of one agent: what it used and what that cost then."""

    usage: Usage
    cost_usd: float | None


def history(repo: Path, *, exclude: str | None = None) -> dict[str, list[Sample]]:
    """Each agent's samples from the repository's newest runs (`exclude`: a run id to leave out)."""
    samples: dict[str, list[Sample]] = {}
    for run_dir in list_runs(repo)[-HISTORY_RUNS:]:
        if run_dir.name == exclude:
            continue
        for agent, sample in _run_samples(of_kind(read_metrics(run_dir / "metrics.jsonl"), AgentRecord)).items():
            samples.setdefault(agent, []).append(sample)
    return samples


def _run_samples(records: Iterable[AgentRecord]) -> dict[str, Sample]:
    """Per agent, everything it used in one run: its reruns and its cut-off calls added up."""
    usage: dict[str, Usage] = {}
    costs: dict[str, float | None] = {}
    for record in records:
        if not record.ran:
            continue
        usage[record.agent] = usage.get(record.agent, Usage()) + record.usage
        costs[record.agent] = total_cost(costs.get(record.agent, 0.0), record.cost_usd)
    return {agent: Sample(usage[agent], costs[agent]) for agent in usage}


def estimate_agent(agent: str, model: str | None, table: PriceTable, samples: Sequence[Sample] = ()) -> AgentEstimate:
    """One agent's p50/p95: from `samples` (its history) when there are any, otherwise from its prior."""

    def price(usage: Usage) -> float | None:
        return table.cost(model, usage) if model is not None else None

    if samples:
        costs = [price(sample.usage) for sample in samples]
        if any(cost is None for cost in costs):  # today's model has no price: what the runs cost then
            costs = [sample.cost_usd for sample in samples]
        known = [cost for cost in costs if cost is not None]
        if len(known) == len(costs):
            return AgentEstimate(agent, model, "history", len(known), percentile(known, 0.5), percentile(known, 0.95))
        return AgentEstimate(agent, model, "history", len(costs), None, None)
    prior = PRIORS.get(agent, DEFAULT_PRIOR)
    return AgentEstimate(agent, model, "priors", 0, price(prior.p50), price(prior.p95))


def estimate(
    agents: Mapping[str, str | None],
    table: PriceTable,
    repo: Path | None,
    *,
    exclude_run: str | None = None,
) -> CostEstimate:
    """The estimate for `agents` (name -> the model that will serve it), from `repo`'s history where it has one."""
    samples = history(repo, exclude=exclude_run) if repo is not None else {}
    return CostEstimate(
        tuple(estimate_agent(name, model, table, samples.get(name, ())) for name, model in agents.items())
    )


def for_plan(plan: RunPlan, names: Iterable[str] | None = None, *, exclude_run: str | None = None) -> CostEstimate:
    """The estimate for the agents of `plan` that will run (or for `names`: the rest of a stopped run)."""
    chosen = [name for name in plan.pipeline.names if plan.runs(name)] if names is None else list(names)
    table = load_price_table(plan.settings.prices)
    return estimate({name: plan.models[name].model_id for name in chosen}, table, plan.repo, exclude_run=exclude_run)


def unpriced_models(plan: RunPlan) -> list[str]:
    """The models of `plan` without a price: a capped run cannot bound their calls."""
    table = load_price_table(plan.settings.prices)
    models = {resolved.model_id for resolved in plan.models.values() if resolved.model_id is not None}
    return sorted(model for model in models if table.lookup(model) is None)
