"""The pipeline DAG: the default feature pipeline, its phases, and validation before any model call."""

from __future__ import annotations

import dataclasses

import pytest

from autodev.agent.specs import AgentSpec, load_agents
from autodev.run.graph import (
    FEATURE_PIPELINE,
    ISSUE_PIPELINE,
    Node,
    Pipeline,
    PipelineError,
    find_cycle,
    pipeline_from_config,
    stages,
    topological_order,
    validate,
)

BUILTIN = load_agents(None)
BUILTIN_NAMES = sorted(BUILTIN)


def invalid(pipeline: Pipeline, known: list[str] | None = None) -> str:
    with pytest.raises(PipelineError) as info:
        validate(pipeline, known if known is not None else [n.agent for n in pipeline.nodes])
    assert info.value.exit_code == 2
    return str(info.value)


def test_feature_pipeline_validates_against_builtin_agents() -> None:
    validate(FEATURE_PIPELINE, BUILTIN_NAMES)
    validate(ISSUE_PIPELINE, BUILTIN_NAMES)
    assert set(FEATURE_PIPELINE.names) | {"issue-creator"} == set(BUILTIN_NAMES)


def test_feature_pipeline_stages() -> None:
    assert stages(FEATURE_PIPELINE) == [
        ["researcher-local", "researcher-web"],
        ["planner"],
        ["test-master"],
        ["implementer"],
        ["reviewer", "security-auditor", "doc-master"],
    ]


def test_feature_pipeline_phases() -> None:
    assert FEATURE_PIPELINE.gate_after == "implementer"
    assert FEATURE_PIPELINE.build_phase() == (
        "researcher-local",
        "researcher-web",
        "planner",
        "test-master",
        "implementer",
    )
    assert FEATURE_PIPELINE.validation_phase() == ("reviewer", "security-auditor", "doc-master")
    assert FEATURE_PIPELINE.verdict_agents == {"reviewer", "security-auditor"}
    assert FEATURE_PIPELINE.remediation_target == "implementer"


def test_phases_without_a_gate() -> None:
    pipeline = Pipeline((Node("a"), Node("b", ("a",))))
    assert pipeline.build_phase() == ("a", "b")
    assert pipeline.validation_phase() == ()


def test_inputs_and_ancestors() -> None:
    assert FEATURE_PIPELINE.inputs_of("implementer") == ("planner", "test-master")
    assert FEATURE_PIPELINE.inputs_of("researcher-local") == ()
    assert FEATURE_PIPELINE.ancestors("test-master") == {"planner", "researcher-local", "researcher-web"}
    with pytest.raises(KeyError):
        FEATURE_PIPELINE.node("nobody")


def test_topological_order_respects_dependencies() -> None:
    order = topological_order(FEATURE_PIPELINE)
    assert sorted(order) == sorted(FEATURE_PIPELINE.names)
    for node in FEATURE_PIPELINE.nodes:
        for dep in node.needs:
            assert order.index(dep) < order.index(node.agent)


def test_restricted_drops_dependencies_and_roles_outside() -> None:
    small = FEATURE_PIPELINE.restricted(["planner", "implementer", "reviewer"])
    assert small.names == ("planner", "implementer", "reviewer")
    assert small.node("implementer").needs == ()
    assert small.node("implementer").also_reads == ("planner",)
    assert small.gate_after == "implementer"
    assert small.verdict_agents == {"reviewer"}
    validate(small, BUILTIN_NAMES)
    assert FEATURE_PIPELINE.restricted(["planner"]).gate_after is None


# --- validation errors ---------------------------------------------------------------------------


def test_unknown_agent() -> None:
    pipeline = Pipeline((Node("researcher-local"), Node("planr", ("researcher-local",))))
    message = invalid(pipeline, BUILTIN_NAMES)
    assert "no agent file defines planr" in message
    assert "planner" in message  # the known agents are listed


def test_dependency_not_in_pipeline() -> None:
    message = invalid(Pipeline((Node("planner", ("researcher-local",)),)))
    assert "planner needs researcher-local, which is not in the pipeline" in message


def test_also_reads_not_in_pipeline() -> None:
    message = invalid(Pipeline((Node("implementer", also_reads=("planner",)),)))
    assert "implementer needs planner" in message


def test_self_dependency() -> None:
    message = invalid(Pipeline((Node("a"), Node("b", ("a", "b")))))
    assert "b needs itself" in message


def test_cycle_shows_the_path_and_reports_waiting_nodes_unreachable() -> None:
    pipeline = Pipeline(
        (
            Node("start"),
            Node("a", ("start", "c")),
            Node("b", ("a",)),
            Node("c", ("b",)),
            Node("after", ("c",)),
            Node("later", ("after",)),
            Node("free", ("start",)),
        )
    )
    message = invalid(pipeline)
    assert "cycle: a -> c -> b -> a" in message
    assert message.endswith("; unreachable (they wait on the cycle): after, later")
    assert "free" not in message
    assert find_cycle(pipeline) == ["a", "c", "b", "a"]
    with pytest.raises(PipelineError, match="cycle"):
        topological_order(pipeline)
    with pytest.raises(PipelineError, match="cycle"):
        stages(pipeline)


def test_two_node_cycle() -> None:
    message = invalid(Pipeline((Node("x", ("y",)), Node("y", ("x",)))))
    assert "cycle: x -> y -> x" in message


def test_duplicates() -> None:
    message = invalid(Pipeline((Node("a"), Node("b", ("a",)), Node("a"))))
    assert "agents listed twice: a" in message


def test_all_problems_reported_at_once() -> None:
    pipeline = Pipeline((Node("ghost"), Node("a", ("missing",)), Node("a")), gate_after="nobody")
    message = invalid(pipeline, ["a"])
    assert message.startswith("invalid pipeline: ")
    for needle in ("listed twice: a", "no agent file defines ghost", "a needs missing", "gate_after names nobody"):
        assert needle in message


def test_remediation_target_must_be_in_pipeline() -> None:
    message = invalid(Pipeline((Node("a"),), remediation_target="implementer"))
    assert "remediation_target names implementer" in message


def test_no_cycle() -> None:
    assert find_cycle(FEATURE_PIPELINE) is None


# --- pipeline_from_config ------------------------------------------------------------------------


def test_pipeline_from_config_none_is_the_feature_pipeline() -> None:
    """The bundled agent files' frontmatter gives the default DAG exactly the roles it always had."""
    assert pipeline_from_config(None, BUILTIN) == FEATURE_PIPELINE


def test_pipeline_from_config_keeps_roles_of_present_agents() -> None:
    pipeline = pipeline_from_config(
        {
            "researcher-local": [],
            "planner": ["researcher-local"],
            "implementer": ["planner"],
            "reviewer": ["implementer"],
        },
        BUILTIN,
    )
    assert pipeline.names == ("researcher-local", "planner", "implementer", "reviewer")
    assert pipeline.node("implementer").needs == ("planner",)
    assert pipeline.gate_after == "implementer"
    assert pipeline.remediation_target == "implementer"
    assert pipeline.verdict_agents == {"reviewer"}
    assert pipeline.node("reviewer").also_reads == ("planner",)  # `reads: [planner]`, an ancestor here
    assert pipeline.node("implementer").also_reads == ()  # planner is a direct dependency already
    validate(pipeline, BUILTIN_NAMES)
    assert stages(pipeline) == [["researcher-local"], ["planner"], ["implementer"], ["reviewer"]]


def test_pipeline_from_config_without_implementer_has_no_gate() -> None:
    pipeline = pipeline_from_config({"researcher-local": [], "doc-master": ["researcher-local"]}, BUILTIN)
    assert pipeline.gate_after is None
    assert pipeline.remediation_target is None
    assert pipeline.verdict_agents == frozenset()
    assert pipeline.build_phase() == ("researcher-local", "doc-master")


def test_pipeline_from_config_is_validated() -> None:
    pipeline = pipeline_from_config({"planner": ["reviewer"], "reviewer": ["planner"]}, BUILTIN)
    with pytest.raises(PipelineError, match="cycle"):
        validate(pipeline, BUILTIN_NAMES)


def renamed(original: str, name: str) -> AgentSpec:
    return dataclasses.replace(BUILTIN[original], name=name)


def test_roles_come_from_the_files_not_the_names() -> None:
    specs = {
        "scout": renamed("researcher-local", "scout"),
        "architect": renamed("planner", "architect"),
        "builder": renamed("implementer", "builder"),
        "code-critic": renamed("reviewer", "code-critic"),
    }
    needs = {"scout": [], "architect": ["scout"], "builder": ["architect"], "code-critic": ["builder"]}
    pipeline = pipeline_from_config(needs, specs)
    assert pipeline.gate_after == "builder" and pipeline.remediation_target == "builder"
    assert pipeline.verdict_agents == {"code-critic"}
    # the critic's file says `reads: [planner]`: no agent of that name here, so nothing extra is read
    assert pipeline.node("code-critic").also_reads == ()
    specs["code-critic"] = dataclasses.replace(specs["code-critic"], reads=("architect", "nobody"))
    assert pipeline_from_config(needs, specs).inputs_of("code-critic") == ("architect", "builder")


def test_an_agent_without_capabilities_has_no_part() -> None:
    bare = {
        name: dataclasses.replace(spec, roles=frozenset(), verdict=False, reads=()) for name, spec in BUILTIN.items()
    }
    pipeline = pipeline_from_config(None, bare)
    assert (pipeline.gate_after, pipeline.remediation_target, pipeline.verdict_agents) == (None, None, frozenset())
    assert all(node.also_reads == () for node in pipeline.nodes)
    assert pipeline_from_config({"wizard": []}, BUILTIN).gate_after is None  # no file: validate() says so


def test_reads_skip_agents_that_do_not_finish_first() -> None:
    specs = {"a": renamed("planner", "a"), "b": dataclasses.replace(BUILTIN["reviewer"], name="b", reads=("a",))}
    assert pipeline_from_config({"a": [], "b": []}, specs).node("b").also_reads == ()  # they run side by side
    assert pipeline_from_config({"a": [], "c": ["a"], "b": ["c"]}, specs).node("b").also_reads == ("a",)


def test_two_agents_with_one_role_are_refused() -> None:
    specs = {"builder": renamed("implementer", "builder"), "implementer": BUILTIN["implementer"]}
    with pytest.raises(PipelineError) as info:
        pipeline_from_config({"implementer": [], "builder": []}, specs)
    assert str(info.value) == (
        "invalid pipeline: 2 agents take the gate role (implementer, builder); give it to one (frontmatter 'roles'); "
        "2 agents take the remediation role (implementer, builder); give it to one (frontmatter 'roles')"
    )
    assert info.value.exit_code == 2
