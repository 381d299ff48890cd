"""The run's kit: the pieces that run and record a run's steps (state, metrics, recorder, the gate step
and the agent step), assembled the same way by both engines, and closed when a step of a run is over."""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from autodev.config.providers import ResilientProvider
from autodev.core.metrics import MetricsSink
from autodev.run.agent_step import AgentStep
from autodev.run.events import Reporter, silent
from autodev.run.gate.step import GateStep
from autodev.run.layout import RunPaths
from autodev.run.plan import RunPlan
from autodev.run.recorder import Recorder
from autodev.run.state import RunState, StateStore


@dataclass
class RunKit:
    """The pieces that run and record a run's steps, assembled the same way for both engines."""

    store: StateStore
    metrics: MetricsSink
    recorder: Recorder
    gate: GateStep
    agents: AgentStep

    @classmethod
    def open(
        cls,
        plan: RunPlan,
        provider: ResilientProvider,
        state: RunState,
        paths: RunPaths,
        reporter: Reporter = silent,
        *,
        use_worktree: bool = True,
    ) -> RunKit:
        """`provider`: wrapped for the run's settings (`config.providers.wrap`)."""
        store = StateStore(paths.state_file, state)
        metrics = MetricsSink(paths.metrics_file, paths.cache_file)
        recorder = Recorder(store, metrics, reporter, state.run_id, provider.name)
        gate = GateStep(plan, recorder, paths, use_worktree)
        return cls(store, metrics, recorder, gate, AgentStep(plan, provider, recorder, paths, gate, use_worktree))

    async def close(self) -> None:
        """A step of a run driven elsewhere is over: its metrics flushed, its provider closed."""
        self.metrics.close()
        with anyio.CancelScope(shield=True):
            await self.agents.provider.aclose()
