"""The pipeline as data: agents and their dependencies, validated before any model is called.

Pure functions only (no I/O), so ordering, stages and validation are tested without a repository. The
DAG names agents (it is configuration: `[pipeline]`); what an agent does in it comes from its spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from autodev.agent.specs import GATE_ROLE, REMEDIATION_ROLE, AgentSpec
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
    gate_after: str | None = None  # the orchestrator runs the tests after this agent (role `gate`)
    verdict_agents: frozenset[str] = field(default_factory=frozenset)  # agents with `verdict: true`
    remediation_target: str | None = None  # who fixes REQUEST_CHANGES findings (role `remediation`)

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


# The default pipeline's shape: who waits for whom. What each agent does in it (the gate, verdicts,
# remediation, extra handoffs it reads) is not here but in its file's frontmatter.
FEATURE_NEEDS: Mapping[str, tuple[str, ...]] = {
    "researcher-local": (),
    "researcher-web": (),
    "planner": ("researcher-local", "researcher-web"),
    "test-master": ("planner",),
    "implementer": ("test-master",),
    "reviewer": ("implementer",),
    "security-auditor": ("implementer",),
    "doc-master": ("implementer",),
}

# FEATURE_NEEDS with the roles the bundled agent files give it, for callers without agent files (tests,
# tools that only draw the DAG). A run never reads roles from here: `pipeline_from_config` takes them
# from the agents' frontmatter, and tests/test_graph.py checks the two agree.
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


def pipeline_from_config(needs: Mapping[str, Sequence[str]] | None, specs: Mapping[str, AgentSpec]) -> Pipeline:
    """`[pipeline]` in config replaces the default DAG (`agent = ["dependency", ...]`); either way each
    agent's part in it comes from its file (`roles`, `verdict`, `reads`), never from its name."""
    return with_capabilities(FEATURE_NEEDS if needs is None else needs, specs)


def with_capabilities(needs: Mapping[str, Sequence[str]], specs: Mapping[str, AgentSpec]) -> Pipeline:
    """The DAG `needs` with the gate, the verdict agents, the remediation target and the extra reads
    its agents' frontmatter declares. An agent without a file gets no part (`validate` reports it)."""
    names = list(needs)
    present = {name: specs[name] for name in names if name in specs}
    gate = [name for name, spec in present.items() if GATE_ROLE in spec.roles]
    fixers = [name for name, spec in present.items() if REMEDIATION_ROLE in spec.roles]
    clashes = [
        f"{len(holders)} agents take the {role} role ({', '.join(holders)}); give it to one (frontmatter 'roles')"
        for role, holders in ((GATE_ROLE, gate), (REMEDIATION_ROLE, fixers))
        if len(holders) > 1
    ]
    if clashes:
        raise PipelineError("invalid pipeline: " + "; ".join(clashes))
    nodes = tuple(
        Node(agent, tuple(deps), _extra_reads(present[agent].reads if agent in present else (), agent, needs))
        for agent, deps in needs.items()
    )
    return Pipeline(
        nodes,
        gate_after=gate[0] if gate else None,
        verdict_agents=frozenset(name for name, spec in present.items() if spec.verdict),
        remediation_target=fixers[0] if fixers else None,
    )


def _extra_reads(reads: Sequence[str], agent: str, needs: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The agents in `reads` that finish before `agent` starts (its ancestors) without being a direct
    dependency: a handoff from an agent running alongside would depend on timing, so it is left out."""
    seen: set[str] = set()
    stack = list(needs.get(agent, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(needs.get(current, ()))
    direct = set(needs.get(agent, ()))
    return tuple(name for name in reads if name in seen and name not in direct)
