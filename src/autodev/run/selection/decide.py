"""Which agents a request needs: the seam between the pipeline and `autodev.run.selection`.

Before the run, `select_agents` classifies the request (docs | typo | config | feature, with reasons),
applies the skip policy for that class, the command-line overrides (`--full`, `--skip`, `--only`) and
the provider's capabilities (a web researcher without web search is skipped, never left to invent
search results), and refuses a selection that would leave a running agent without the change it
works on. After the implementer, `recheck_diff` classifies what the worktree actually changed; it
only ever adds work back (see `autodev.run.selection.policy`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autodev.agent.specs import WEB_TOOLS, AgentSpec
from autodev.core.errors import UserError
from autodev.run.graph import Pipeline
from autodev.run.selection.diff import classify_diff
from autodev.run.selection.overrides import SelectionOverrides, check_needs
from autodev.run.selection.policy import Recheck, SkipPolicy, recheck
from autodev.run.selection.repo import changed_files, repo_lookup
from autodev.run.selection.request import classify_request
from autodev.tools.names import WRITING_TOOLS

NO_WEB_SEARCH = "no web search available"


@dataclass(frozen=True)
class Selection:
    change_type: str
    reasons: tuple[str, ...]
    skips: Mapping[str, str] = field(default_factory=dict)  # agent -> why it is skipped
    fixed: frozenset[str] = frozenset()  # skips the diff re-check never undoes: capabilities, --skip, --only
    mode: str = "auto"  # auto | full | only
    policy: SkipPolicy = field(default_factory=SkipPolicy)
    by_class: bool = True  # False: a purpose-built pipeline that runs as it is (no change-type skips)


def needs_web_only(spec: AgentSpec) -> bool:
    """An agent whose every listed tool is a web tool has nothing to do without web search."""
    return bool(spec.tools) and all(tool in WEB_TOOLS for tool in spec.tools or ())


def select_agents(
    request: str,
    repo: Path,
    specs: Mapping[str, AgentSpec],
    agents: Iterable[str],
    *,
    web_search: bool,
    policy: SkipPolicy | None = None,
    overrides: SelectionOverrides | None = None,
    pipeline: Pipeline | None = None,
    apply_policy: bool = True,
) -> Selection:
    """`apply_policy=False` classifies but skips nothing for the class (a purpose-built pipeline such as
    the issue drafter). Raises `UserError` for bad overrides or a refused skip, before anything runs."""
    names = list(agents)
    policy = policy or SkipPolicy()
    overrides = overrides or SelectionOverrides()
    overrides.check(names)
    unknown = sorted(policy.named_agents() - set(specs))
    if unknown:
        raise UserError(f"[selection.skips] names unknown agent(s): {', '.join(unknown)}")

    classified = classify_request(request, repo_lookup(repo))
    kind = classified.change_type
    reasons = list(classified.reasons)
    skips: dict[str, str] = {}
    fixed: set[str] = set()
    for name in names:
        if not web_search and needs_web_only(specs[name]):
            skips[name] = f"{NO_WEB_SEARCH} with this provider"
            fixed.add(name)
    if overrides.mode == "full":
        reasons.append("--full: no agent is skipped for the change type")
    elif overrides.mode == "only":
        listed = ",".join(overrides.only)
        for name in names:
            if name not in overrides.only:
                skips.setdefault(name, f"not in --only {listed}")
                fixed.add(name)
        reasons.append(f"--only {listed}: every other agent is skipped")
    else:
        if apply_policy:
            for name in policy.skips_for(kind):
                if name in names:
                    skips.setdefault(name, f"not needed for a {kind} change (selection.skips.{kind})")
        else:
            reasons.append("this pipeline runs as it is: no change-type skips")
        for name in overrides.skip:
            skips[name] = "--skip on the command line"
            fixed.add(name)
    if pipeline is not None:
        check_needs(pipeline, skips)
    return Selection(kind, tuple(reasons), skips, frozenset(fixed), overrides.mode, policy, apply_policy)


def test_writers(pipeline: Pipeline, specs: Mapping[str, AgentSpec]) -> tuple[str, ...]:
    """The build phase's writers before the gate agent (the test-master by default): when the diff of a
    fast-path run turns out to change code, these run after all, after the fact and before the test gate,
    so that no code change reaches the gate without tests written for it. A writer is an agent with a
    writing tool and a write scope that is not empty; the read-only researchers and planner are not."""
    gate_agent = pipeline.gate_after
    if gate_agent is None:
        return ()
    return tuple(name for name in pipeline.build_phase() if name != gate_agent and _writes(specs.get(name)))


def _writes(spec: AgentSpec | None) -> bool:
    if spec is None or spec.write_scope == ():
        return False
    offered = set(spec.tools) if spec.tools is not None else set(WRITING_TOOLS)
    return bool((offered - set(spec.disallowed_tools)) & WRITING_TOOLS)


def recheck_diff(
    selection: Selection,
    worktree: Path,
    base: str,
    skips: Mapping[str, str],
    pending: Collection[str],
    *,
    gate_agent_skipped: bool = False,
    expected: str | None = None,
) -> Recheck:
    """Classify what the worktree changed against `base` and say what that adds to the run. `expected`:
    the class the run took before the diff was known, when the plan narrowed it (`after_plan`)."""
    return recheck(
        before=expected or selection.change_type,
        by="plan" if expected and expected != selection.change_type else "request",
        mode=selection.mode,
        policy=selection.policy,
        diff=classify_diff(changed_files(worktree, base)),
        skips=skips,
        fixed=selection.fixed,
        pending=pending,
        gate_agent_skipped=gate_agent_skipped,
    )


def gate_outlook(selection: Selection) -> str | None:
    """For `autodev plan`: when the test gate may be skipped (None: it runs whenever there is a change)."""
    if selection.mode == "auto" and selection.change_type in selection.policy.skip_gate:
        return "skipped if the diff confirms that only documentation changed"
    return None
