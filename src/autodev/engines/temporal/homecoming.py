"""Bringing a feature home: its branch and artifacts into the user's repository, as a local run leaves them.

When a feature's workflow ends, its branch `autodev/<run_id>` (one commit, or its checkpoints) is
fetched into the user's repository and `.autodev/runs/<run_id>/` gets state.json, metrics.jsonl and
the sessions from the artifact commits, so `autodev report` works on it as on any run.

As a local run does, the client watches the repository's git config and hooks from the feature's start
(`gitops.GitFingerprint`): when they changed while it ran, nothing is fetched (no git command runs in the
repository after noticing) and the run comes home as failed, its error naming the changed files.
"""

from __future__ import annotations

from typing import Literal

from autodev.core import gitops
from autodev.core.jsonio import write_json_atomic
from autodev.core.locks import repo_lock
from autodev.core.redact import redact_data
from autodev.engines.temporal.messages import AgentTrack, FeatureOutcome, TextRef
from autodev.run.layout import RunPaths
from autodev.run.plan import RunPlan
from autodev.run.state import DiffStat, Progress, RunState


def bring_home(
    plan: RunPlan, remote: str, outcome: FeatureOutcome, watch: gitops.GitFingerprint | None = None
) -> RunState:
    """The run's branch and artifacts into the user's repository, as a local run leaves them. `watch`: the
    repository's git config and hooks as they were when the feature started."""
    from autodev.engines.temporal import transport

    repo, run_id = plan.repo, outcome.run_id
    changed = watch.changes() if watch is not None else []
    if changed:
        kept = f"; its branch and records stay on the remote {remote} (refs/autodev/{run_id}/, autodev/{run_id})"
        return _refused(plan, outcome, gitops.config_change_error(changed) + kept)
    with repo_lock(gitops.common_dir(repo)):
        gitops.ensure_excludes(repo)
        artifacts = transport.collect_run(repo, remote, run_id)
    paths = RunPaths.for_run(repo, run_id)
    paths.sessions.mkdir(parents=True, exist_ok=True)
    prefix = transport.run_refs(run_id)

    def text(ref: TextRef | None) -> str | None:
        if ref is None:
            return None
        files = artifacts.get(ref.ref.removeprefix(prefix), {})
        data = files.get(ref.path)
        return data.decode("utf-8", "replace") if data is not None else None

    metrics: list[bytes] = []
    state = _record(plan, outcome, "done" if outcome.status == "done" else "failed", outcome.error)
    for name, agent in outcome.agents.items():
        track = outcome.tracks.get(name) or AgentTrack()
        refs = [ref.removeprefix(prefix) for ref in track.artifacts]
        session = b"".join(artifacts.get(ref, {}).get("session.md", b"") for ref in refs)
        session_file = None
        if session:
            session_file = paths.sessions / f"{name}.md"
            session_file.write_bytes(session)
        metrics += [artifacts.get(ref, {}).get("metrics.jsonl", b"") for ref in refs]
        agent.handoff = text(track.handoff)
        agent.session_file = str(session_file) if session_file else None
        state.agents[name] = agent
    for key, files in sorted(artifacts.items()):
        if key.startswith("gate/"):
            metrics.append(files.get("metrics.jsonl", b""))
    state.change_type = outcome.change_type or state.change_type
    state.gate = outcome.gate
    state.commit = outcome.commit
    if outcome.commit:
        summary = gitops.diff_summary(repo, outcome.base, outcome.commit)
        state.diff = DiffStat(summary.files, summary.insertions, summary.deletions, summary.stat)
    state.pipeline = {node.agent: list(node.needs) for node in plan.pipeline.nodes}
    state.handoff_budget = outcome.handoff_budget
    state.checkpoints = outcome.checkpoints
    state.checkpoint = outcome.tip if outcome.tip != outcome.base else None
    state.strikes = outcome.strikes
    write_json_atomic(paths.state_file, redact_data(state.to_json()))
    lines = b"".join(chunk if chunk.endswith(b"\n") or not chunk else chunk + b"\n" for chunk in metrics)
    paths.metrics_file.write_bytes(lines)
    if lines:
        paths.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with paths.cache_file.open("ab") as handle:
            handle.write(lines)
    return state


def _refused(plan: RunPlan, outcome: FeatureOutcome, error: str) -> RunState:
    """The run's record without its branch or artifacts (fetching them would run git in the repository)."""
    paths = RunPaths.for_run(plan.repo, outcome.run_id)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    state = _record(plan, outcome, "failed", error)
    state.warnings.append(error)
    write_json_atomic(paths.state_file, redact_data(state.to_json()))
    return state


def _record(plan: RunPlan, outcome: FeatureOutcome, status: Literal["done", "failed"], error: str | None) -> RunState:
    """What every run brought home records, whether or not its branch and artifacts came with it."""
    state = RunState(
        run_id=outcome.run_id,
        request=plan.request,
        repo=str(plan.repo),
        worktree="",
        branch=outcome.branch,
        base_commit=outcome.base,
        status=status,
    )
    state.error = error
    state.cost_usd = outcome.cost_usd
    state.warnings = list(outcome.warnings)
    state.progress = Progress("finish", 0, engine="temporal", workflow_id=f"autodev-{outcome.run_id}")
    state.options = dict(outcome.options)
    state.created_at, state.updated_at = outcome.started_at, outcome.ended_at
    return state
