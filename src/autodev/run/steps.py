"""The run's step decisions as pure functions, shared by every engine that drives a run.

The driver (`run.driver`) walks the steps: build, test gate (failures back to the gate agent),
validation, remediation cycles, finish. What it decides at each step — which verdicts count as
change requests, when a run has had enough remediation cycles, what the agent that fixes things is
told — lives here. Nothing here does I/O: a workflow may call it deterministically.

Texts are assembled where the texts are (an engine that passes references, not contents, calls
`rerun_notes` inside the activity that holds the handoffs); decisions need only the verdicts' decisions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from autodev.agent.prompts import nested
from autodev.agent.verdicts import parse_verdict

Decision = Literal["APPROVE", "REQUEST_CHANGES"] | None
Next = Literal["finish", "remediate", "fail"]

NO_VERDICT = "(No VERDICT line; counted as REQUEST_CHANGES.)\n\n"
MISSING_VERDICT_TWICE = "no VERDICT line in its final message, twice"


def gate_fix_task(summary: str) -> str:
    """What the gate agent is told when the project's tests fail with its change."""
    return (
        "The project's tests fail with your change. Fix the code so they pass; "
        "do not delete or weaken tests.\n\n" + summary
    )


def gate_exhausted(retries: int, gate_agent: str, summary: str) -> str:
    """Why the run failed when the tests still fail after every allowed fix attempt."""
    return f"tests still fail after {retries} fix attempt(s) by {gate_agent}:\n" + summary


def findings(handoff: str) -> str:
    """What the remediation target is told about one validation agent's handoff."""
    verdict = parse_verdict(handoff)
    return verdict.findings if verdict.decision is not None else NO_VERDICT + verdict.findings


def findings_notes(by_agent: Mapping[str, str]) -> str:
    """All change requests of a validation round, one section per agent (`by_agent`: agent -> findings)."""
    return "\n\n".join(f"## Findings from {agent}\n\n{nested(text, 3)}" for agent, text in by_agent.items())


def remediation_findings(handoffs: Mapping[str, str]) -> str:
    """The findings of the agents that requested changes (`handoffs`: agent -> its handoff)."""
    return findings_notes({agent: findings(text) for agent, text in handoffs.items()})


def rerun_notes(kind: str, texts: Mapping[str, str]) -> str:
    """What a rerun agent is told, from the texts its notes name (`run.driver.Notes`)."""
    if kind == "gate":
        return gate_fix_task(texts.get("summary", ""))
    if kind == "findings":
        return remediation_task(texts.get("findings", ""))
    return remediation_task(remediation_findings(texts))


def remediation_task(notes: str) -> str:
    """What the remediation target is told in a remediation cycle."""
    return (
        "Reviewers requested changes. Address every finding below, then give "
        "your handoff with an `## Addressed` section.\n\n" + notes
    )


@dataclass(frozen=True)
class VerdictRound:
    """The outcome of one validation round's verdicts."""

    requesting: tuple[str, ...]  # agents whose handoff counts as a change request, in the order given
    strikes: dict[str, int] = field(default_factory=dict)  # missing verdicts per agent so far
    failed: str | None = None  # an agent whose verdict went missing twice: the run fails


def judge(decisions: Mapping[str, Decision], strikes: Mapping[str, int]) -> VerdictRound:
    """`decisions`: each finished verdict agent's decision (None: no VERDICT line), in pipeline order.

    REQUEST_CHANGES is a change request; a missing verdict counts as one once, and fails the agent
    the second time (docs/agents.md, verdicts).
    """
    counted = dict(strikes)
    requesting: list[str] = []
    for name, decision in decisions.items():
        if decision == "REQUEST_CHANGES":
            requesting.append(name)
        elif decision is None:
            counted[name] = counted.get(name, 0) + 1
            if counted[name] > 1:
                return VerdictRound(tuple(requesting), counted, failed=name)
            requesting.append(name)
    return VerdictRound(tuple(requesting), counted)


def after_validation(requesting: Collection[str], cycle: int, max_cycles: int, target: str | None) -> Next:
    """Finish when nobody asked for changes; remediate while cycles remain; otherwise the run fails."""
    if not requesting:
        return "finish"
    if target is None or cycle >= max_cycles:
        return "fail"
    return "remediate"


def still_requesting(requesting: Collection[str], cycle: int) -> str:
    return f"{', '.join(requesting)} still requested changes after {cycle} remediation cycle(s)"


def remediation_note(requesting: Collection[str], cycle: int) -> str:
    return f"remediation cycle {cycle + 1}: changes requested by {', '.join(requesting)}"
