"""`--approve plan|diff`: what the user is shown at a pause, and what they answer.

The driver asks its executor at two points (`run.driver`): after the planner, before anything
downstream of it runs (`plan`), and before the final commit (`diff`). The local engine asks through an
`Approver` when the CLI gives it one (a terminal); without one, the run stops resumably in status
`awaiting-approval` and `autodev approve RUN_ID [--reject]` answers later. An answer is kept in
state.json (`approvals`), so a resumed run never asks twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ApprovalPoint = Literal["plan", "diff"]
POINTS: tuple[str, ...] = ("plan", "diff")
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class ApprovalRequest:
    run_id: str
    point: str  # plan | diff
    text: str  # the plan's handoff, or the change's diff stat
    cost: str  # one line: spent so far and what the rest is estimated to need


@dataclass(frozen=True)
class ApprovalAnswer:
    approved: bool
    plan: str | None = None  # the plan as the user edited it: it replaces the planner's handoff


# Called in a thread of its own (it may block on input); None: no answer (end of input), so the run waits.
Approver = Callable[[ApprovalRequest], ApprovalAnswer | None]


def pending_point(approvals: dict[str, str]) -> str | None:
    """The approval a stopped run waits for, if any."""
    return next((point for point, answer in approvals.items() if answer == PENDING), None)
