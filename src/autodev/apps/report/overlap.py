"""How much parallel stages actually overlapped, from the recorded start and end times.

`overlap` is agent time / wall (2.0: two agents at work at once, on average), the same word and the
same ratio as `autodev report`'s; `efficiency` is `autodev bench`'s bound / wall, a different thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from autodev.run.state import RunState


@dataclass(frozen=True)
class StageTiming:
    agents: tuple[str, ...]
    wall_s: float  # first start to last end
    agent_s: float  # sum of the agents' own durations

    @property
    def overlap(self) -> float:
        """Agent time / wall: how many of the stage's agents were at work at once, on average."""
        return self.agent_s / self.wall_s if self.wall_s > 0 else 1.0


def stage_timings(state: RunState, stages: list[list[str]]) -> list[StageTiming]:
    """Timings of each stage that ran more than one agent (the ones that can overlap)."""
    timings = []
    for stage in stages:
        spans = []
        for name in stage:
            agent = state.agents.get(name)
            if agent and agent.started_at and agent.ended_at and agent.status == "done":
                spans.append((datetime.fromisoformat(agent.started_at), datetime.fromisoformat(agent.ended_at)))
        if len(spans) < 2:
            continue
        wall = (max(end for _, end in spans) - min(start for start, _ in spans)).total_seconds()
        summed = sum((end - start).total_seconds() for start, end in spans)
        timings.append(StageTiming(tuple(stage), wall, summed))
    return timings
