"""The skip policy as data, and the diff re-check that may only ever add work back.

Defaults (from the research behind the project), overridable per class in config:

```toml
[selection]
skip_gate = ["docs", "typo"]          # diff classes for which a fast-path run may skip the test gate
[selection.skips]
docs = ["test-master", "security-auditor", "researcher-web"]
typo = ["researcher-local", "researcher-web", "test-master"]
config = ["researcher-local", "researcher-web", "test-master"]
deps = ["researcher-local", "test-master"]
feature = []
```

A class left out keeps its default. Agents named here but not in the pipeline are ignored (a custom
pipeline may leave the web researcher out); unknown agent names are a configuration error.

Unlike an agent's capabilities (its file's frontmatter, docs/agents.md), the skips are keyed by agent
name on purpose: skipping is a choice about a kind of request, made in config, not something an agent
is. So the defaults name the bundled agents, and an agent under another name (a renamed copy of a
built-in one included) is skipped by no default: it runs for every kind of request until
`[selection.skips]` names it. Running an agent that could have been skipped costs tokens, never a
missed review.

The test gate: it costs no tokens, only the suite's time, so it is skipped only when both the request
and the diff are in `skip_gate` (by default: docs or typo, i.e. only documentation changed). A config
change runs it (pyproject.toml, tox.ini and CI files decide how the code is built and tested), and so
does any code or test change. A `deps` change (packaging, dependencies, build: pyproject's dependency
tables, requirements, lock files, package.json's dependencies ...) always gets the test gate and the
security-auditor: `skip_gate` and `skips.deps` refuse them. Under `--full` or `--only` the gate always
runs after the implementer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from autodev.config.selection import CHANGE_TYPES, FAST_PATHS, SelectionConfig
from autodev.run.selection.diff import DiffClass

DEFAULT_SKIPS: dict[str, tuple[str, ...]] = {
    "docs": ("test-master", "security-auditor", "researcher-web"),
    "typo": ("researcher-local", "researcher-web", "test-master"),
    "config": ("researcher-local", "researcher-web", "test-master"),
    "deps": ("researcher-local", "test-master"),
    "feature": (),
}
DEFAULT_SKIP_GATE: tuple[str, ...] = ("docs", "typo")
# How much a class assumes was left alone: docs and typo assume only prose changed, config that no
# code and nothing users install changed, deps that no code changed, feature assumes nothing. A diff
# of a higher rank than the request breaks the assumption.
RANK: dict[str, int] = {"docs": 0, "typo": 0, "config": 1, "deps": 2, "feature": 3}


@dataclass(frozen=True)
class SkipPolicy:
    skips: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SKIPS))
    skip_gate: frozenset[str] = frozenset(DEFAULT_SKIP_GATE)

    @classmethod
    def from_config(cls, config: SelectionConfig | None) -> SkipPolicy:
        if config is None:
            return cls()
        skips = {kind: tuple(config.skips.get(kind, DEFAULT_SKIPS[kind])) for kind in CHANGE_TYPES}
        gate = DEFAULT_SKIP_GATE if config.skip_gate is None else tuple(config.skip_gate)
        return cls(skips, frozenset(gate))

    def skips_for(self, change_type: str) -> tuple[str, ...]:
        return self.skips.get(change_type, ())

    def named_agents(self) -> set[str]:
        return {agent for agents in self.skips.values() for agent in agents}


@dataclass(frozen=True)
class Recheck:
    """What the diff changes about the run: never fewer agents, never a skipped gate that was due."""

    after: str
    reasons: tuple[str, ...]
    unskip: dict[str, str]  # agent -> why it runs after all
    run_gate: bool
    gate_reason: str


def recheck(
    *,
    before: str,
    mode: str,
    policy: SkipPolicy,
    diff: DiffClass,
    skips: Mapping[str, str],
    fixed: Collection[str],
    pending: Collection[str],
    gate_agent_skipped: bool = False,
    by: str = "request",
) -> Recheck:
    """`before`: the class the run took, the request's or (`by="plan"`) the one its plan narrowed it to;
    `skips`: the agents skipped now; `fixed`: skips the user or the provider imposed (never undone);
    `pending`: agents that can still run: the validation agents, and the build phase's test writers, which
    run after the fact, before the test gate (only these can be un-skipped)."""
    after = diff.change_type
    reasons = list(diff.reasons)
    unskip: dict[str, str] = {}
    if mode == "auto" and RANK.get(after, 3) > RANK.get(before, 3):
        allowed = set(policy.skips_for(after))
        reasons.append(f"diff re-check: the {by} took the {before} path but the diff is {after}: adding work back")
        for agent in skips:
            if agent in fixed or agent in allowed:
                continue
            if agent in pending:
                unskip[agent] = f"runs after all: the {before} {by}'s diff is {after}"
                reasons.append(f"diff re-check: {agent} runs after all (it was skipped for the {before} path)")
            else:
                reasons.append(
                    f"diff re-check: {agent} was skipped before the diff was known and its turn has passed; "
                    "it is not re-run (the test writer, the test gate and the validation agents cover the change)"
                )
        for agent in skips:
            if agent in fixed and agent not in allowed and agent in pending:
                reasons.append(f"diff re-check: {agent} stays skipped: {skips[agent]}")
    if gate_agent_skipped:
        return Recheck(after, tuple(reasons), unskip, False, "the implementer did not run: no change to test")
    if mode != "auto":
        return Recheck(after, tuple(reasons), unskip, True, f"--{mode}: the test gate runs")
    if before in policy.skip_gate and after in policy.skip_gate:
        why = f"a {before} {by} and a {after} diff (only documentation changed): no tests to run"
        return Recheck(after, tuple(reasons), unskip, False, why)
    return Recheck(after, tuple(reasons), unskip, True, f"a {before} {by} and a {after} diff: the test gate runs")


def is_fast_path(change_type: str) -> bool:
    return change_type in FAST_PATHS
