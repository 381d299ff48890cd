"""The pipeline as data: agents and their dependencies, validated before any model is called.

Pure functions only (no I/O), so ordering, stages and validation are tested without a repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from autodev.core.errors import UserError


class PipelineError(UserError):
    """A pipeline that cannot run: unknown agents, cycles, unreachable nodes."""


@dataclass(frozen=True)
class Node:
    agent: str
    needs: tuple[str, ...] = ()
    also_reads: tuple[str, ...] = ()  # earlier agents whose handoffs it receives without waiting on them directly


@dataclass(frozen=True)
class Pipeline:
    nodes: tuple[Node, ...]
    gate_after: str | None = None  # the orchestrator runs the tests after this agent
    verdict_agents: frozenset[str] = field(default_factory=frozenset)
    remediation_target: str | None = None  # who fixes REQUEST_CHANGES findings

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(node.agent for node in self.nodes)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.agent == name:
                return node
        raise KeyError(name)

    def inputs_of(self, name: str) -> tuple[str, ...]:
        node = self.node(name)
        return tuple(dict.fromkeys((*node.also_reads, *node.needs)))

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.node(name).needs)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.node(current).needs)
        return seen

    def build_phase(self) -> tuple[str, ...]:
        """Agents up to and including the gate agent; everything if there is no gate."""
        if self.gate_after is None:
            return self.names
        wanted = self.ancestors(self.gate_after) | {self.gate_after}
        return tuple(n for n in topological_order(self) if n in wanted)

    def validation_phase(self) -> tuple[str, ...]:
        build = set(self.build_phase())
        return tuple(n for n in topological_order(self) if n not in build)

    def restricted(self, names: Iterable[str]) -> Pipeline:
        keep = set(names)
        nodes = tuple(
            Node(n.agent, tuple(d for d in n.needs if d in keep), tuple(d for d in n.also_reads if d in keep))
            for n in self.nodes
            if n.agent in keep
        )
        return Pipeline(
            nodes,
            self.gate_after if self.gate_after in keep else None,
            self.verdict_agents & keep,
            self.remediation_target,
        )


def validate(pipeline: Pipeline, known_agents: Iterable[str]) -> None:
    """Raise one `PipelineError` listing every problem, before any token is spent."""
    known = set(known_agents)
    names = pipeline.names
    problems: list[str] = []
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"agents listed twice: {', '.join(duplicates)}")
    unknown = sorted(set(names) - known)
    if unknown:
        problems.append(f"no agent file defines {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for node in pipeline.nodes:
        missing = [d for d in (*node.needs, *node.also_reads) if d not in names]
        if missing:
            problems.append(f"{node.agent} needs {', '.join(missing)}, which is not in the pipeline")
        if node.agent in node.needs:
            problems.append(f"{node.agent} needs itself")
    if not problems:
        cycle = find_cycle(pipeline)
        if cycle:
            problems.append(f"cycle: {' -> '.join(cycle)}")
            ordered = set(_kahn(pipeline))
            stuck = [n for n in names if n not in ordered and n not in cycle]
            if stuck:
                problems.append(f"unreachable (they wait on the cycle): {', '.join(stuck)}")
    for role, name in (
        ("gate_after", pipeline.gate_after),
        ("remediation_target", pipeline.remediation_target),
    ):
        if name is not None and name not in names:
            problems.append(f"{role} names {name}, which is not in the pipeline")
    if problems:
        raise PipelineError("invalid pipeline: " + "; ".join(problems))


def _kahn(pipeline: Pipeline) -> list[str]:
    remaining = {n.agent: set(n.needs) for n in pipeline.nodes}
    order: list[str] = []
    while True:
        ready = [name for name, needs in remaining.items() if not needs]
        if not ready:
            return order
        for name in ready:
            order.append(name)
            del remaining[name]
        for needs in remaining.values():
            needs.difference_update(ready)


def find_cycle(pipeline: Pipeline) -> list[str] | None:
    needs = {n.agent: n.needs for n in pipeline.nodes}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for dep in needs.get(name, ()):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in needs:
        if name not in state and (found := visit(name)):
            return found
    return None


def topological_order(pipeline: Pipeline) -> list[str]:
    order = _kahn(pipeline)
    if len(order) != len(pipeline.nodes):
        raise PipelineError(f"invalid pipeline: cycle: {' -> '.join(find_cycle(pipeline) or [])}")
    return order


def stages(pipeline: Pipeline) -> list[list[str]]:
    """Agents grouped by depth: everything in one stage can run at the same time."""
    depth: dict[str, int] = {}
    for name in topological_order(pipeline):
        needs = pipeline.node(name).needs
        depth[name] = 1 + max((depth[d] for d in needs), default=-1)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in pipeline.names:
        grouped[depth[name]].append(name)
    return grouped


FEATURE_PIPELINE = Pipeline(
    nodes=(
        Node("researcher-local"),
        Node("researcher-web"),
        Node("planner", ("researcher-local", "researcher-web")),
        Node("test-master", ("planner",)),
        Node("implementer", ("test-master",), also_reads=("planner",)),
        Node("reviewer", ("implementer",), also_reads=("planner",)),
        Node("security-auditor", ("implementer",)),
        Node("doc-master", ("implementer",)),
    ),
    gate_after="implementer",
    verdict_agents=frozenset({"reviewer", "security-auditor"}),
    remediation_target="implementer",
)

ISSUE_PIPELINE = Pipeline(nodes=(Node("researcher-local"), Node("issue-creator", ("researcher-local",))))


def pipeline_from_config(needs: Mapping[str, list[str]] | None) -> Pipeline:
    """`[pipeline]` in config replaces the default DAG: `agent = ["dependency", ...]`."""
    if needs is None:
        return FEATURE_PIPELINE
    nodes = tuple(Node(agent, tuple(deps)) for agent, deps in needs.items())
    names = {n.agent for n in nodes}
    base = FEATURE_PIPELINE
    return Pipeline(
        nodes,
        gate_after=base.gate_after if base.gate_after in names else None,
        verdict_agents=base.verdict_agents & names,
        remediation_target=base.remediation_target if base.remediation_target in names else None,
    )
