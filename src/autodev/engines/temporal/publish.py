"""What an agent's activity sends back: its texts as an artifact commit, its checkpoint on the run's branch.

Only SHAs and references go back to the workflow (`AgentResult`); the handoff, the handoffs the
budget compacted, the session log and the metrics travel in git (`transport`).
"""

from __future__ import annotations

import re

from autodev.agent.verdicts import parse_verdict
from autodev.core.records import AgentRecord, of_kind
from autodev.core.usage import Usage
from autodev.engines.temporal import transport
from autodev.engines.temporal.messages import AgentResult, AgentTask, RunRef, TextRef
from autodev.engines.temporal.worksite import Worksite
from autodev.run.kit import RunKit
from autodev.run.state import HandoffBudget

_ATTEMPT = re.compile(r"/(\d+)$")


def publish_agent(
    site: Worksite,
    task: AgentTask,
    kit: RunKit,
    ok: bool,
    checkpoint: str | None,
    before: dict[str, str | None],
    worker: str,
) -> AgentResult:
    run, name = task.run, task.name
    state = kit.store.state
    agent = state.agents[name]
    number = task.runs + 1
    prefix = transport.run_refs(run.run_id)
    files: dict[str, str | bytes] = {}
    if ok:
        files["handoff.md"] = agent.handoff or ""
    compacted_names = [
        other
        for other, text in before.items()
        if other != name and text is not None and state.agents[other].handoff != text
    ]
    for other in compacted_names:
        files[f"handoff-{other}.md"] = state.agents[other].handoff or ""
    paths = site.paths
    session = paths.sessions / f"{name}.md"
    if session.is_file():
        files["session.md"] = session.read_bytes()
    if paths.metrics_file.is_file():
        files["metrics.jsonl"] = paths.metrics_file.read_bytes()
    artifact_ref = f"{prefix}agents/{name}/{number}/{site.attempt}"
    message = f"autodev artifacts: {name} (run {number}, attempt {site.attempt})\n\nautodev run {run.run_id}"
    commit = transport.make_artifact(site.mirror.path, files, message)
    refspecs = [f"{commit}:{artifact_ref}"]
    checkpoint_ref = f"{prefix}checkpoints/{name}/{number}/{site.attempt}"
    if checkpoint is not None:
        refspecs.append(f"{checkpoint}:{checkpoint_ref}")
    transport.push(site.mirror.path, run.remote, refspecs)
    if checkpoint is not None:
        advance_branch(site, run, name, number, checkpoint)

    def ref(path: str) -> TextRef:
        size = len(files[path]) if isinstance(files[path], bytes) else len(str(files[path]).encode("utf-8"))
        return TextRef(ref=artifact_ref, commit=commit, path=path, size=size)

    record = next((r for r in reversed(of_kind(kit.metrics.written, AgentRecord)) if r.agent == name), None)
    decision = None
    if ok and name in kit.agents.plan.pipeline.verdict_agents:
        decision = parse_verdict(agent.handoff or "").decision
    budget = state.handoff_budget
    return AgentResult(
        name=name,
        status=agent.status,
        error=agent.error,
        model=agent.model,
        started_at=agent.started_at,
        ended_at=agent.ended_at,
        checkpoint=checkpoint,
        handoff=ref("handoff.md") if ok else None,
        handoff_tokens=record.handoff_tokens if record else 0,
        decision=decision,
        compacted={other: ref(f"handoff-{other}.md") for other in compacted_names},
        handoff_budget=HandoffBudget(budget.budget, budget.total, dict(budget.per_agent), dict(budget.compacted)),
        usage=record.usage if record else Usage(),
        cost_usd=record.cost_usd if record else None,
        turns=record.turns if record else 0,
        artifacts=artifact_ref,
        worker=worker,
        warnings=list(state.warnings),
        skipped={
            other: skipped.reason or ""
            for other, skipped in state.agents.items()
            if skipped.status == "skipped" and task.statuses.get(other) != "skipped"
        },
        planned=state.change_type.planned,
        planned_reasons=list(state.change_type.reasons) if state.change_type.planned else [],
    )


def advance_branch(site: Worksite, run: RunRef, name: str, number: int, checkpoint: str) -> None:
    """Move the run's branch to the new checkpoint (or find that an earlier attempt of this run did)."""
    mirror = site.mirror
    if mirror.advance_branch(run.run_id, checkpoint, run.tip, set()):
        return
    pattern = f"{transport.run_refs(run.run_id)}checkpoints/{name}/{number}/*"
    earlier = set()
    for ref_name, sha in transport.remote_refs(mirror.path, run.remote, pattern).items():
        found = _ATTEMPT.search(ref_name)
        if found and int(found.group(1)) < site.attempt:
            earlier.add(sha)
    if earlier:
        mirror.advance_branch(run.run_id, checkpoint, run.tip, earlier)
