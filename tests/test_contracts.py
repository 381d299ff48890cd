"""The contracts in docs/ against the code: every documented example validates through the typed readers,
every field of every record type is documented, and every exit code the CLI uses is on its page."""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest

from autodev.core import errors
from autodev.core.records import (
    RECORD_TYPES,
    SCHEMA,
    AgentRecord,
    CallRecord,
    TimerRecord,
    parse_lines,
    read_metrics,
)
from autodev.run.layout import load_state
from autodev.run.state import SCHEMA as STATE_SCHEMA
from autodev.run.state import AgentState, RunState

DOCS = Path(__file__).resolve().parents[1] / "docs"
CLI = Path(__file__).resolve().parents[1] / "src" / "autodev" / "apps" / "cli"


def json_blocks(page: str) -> list[str]:
    return re.findall(r"^```json\n(.*?)^```", (DOCS / page).read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def documented_keys(page: str) -> dict[str, set[str]]:
    """Heading -> the keys in the first column of the tables under it (`### \\`gate.tests\\`` -> gate.tests)."""
    sections: dict[str, set[str]] = {}
    heading = ""
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            named = re.search(r"`([^`]+)`", line)
            heading = named.group(1) if named else line.lstrip("# ").strip()
        elif line.startswith("| `"):
            sections.setdefault(heading, set()).add(line.split("`")[1])
    return sections


# ---------------------------------------------------------------- metrics.jsonl
def metric_examples() -> list[dict[str, Any]]:
    return [json.loads(line) for block in json_blocks("metrics.md") for line in block.splitlines() if line.strip()]


def test_every_metrics_example_reads_as_its_record_type_field_for_field() -> None:
    examples = metric_examples()
    assert {example["kind"] for example in examples} == {cls.kind for cls in RECORD_TYPES}
    for example in examples:
        (record,) = parse_lines([json.dumps(example)])
        assert type(record).kind == example["kind"]
        assert record.to_json() == example  # every documented field, and nothing else
        assert list(record.to_json()) == list(example)  # in the documented order


def test_the_metrics_examples_read_from_a_file_with_a_cut_off_last_line(tmp_path: Path) -> None:
    lines = [json.dumps(example) for example in metric_examples()]
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(lines) + "\n" + lines[0][:40], encoding="utf-8")
    assert [record.to_json() for record in read_metrics(path)] == metric_examples()


@pytest.mark.parametrize("record_type", RECORD_TYPES, ids=lambda cls: cls.kind)
def test_every_field_of_a_metric_record_is_documented(
    record_type: type[CallRecord] | type[AgentRecord] | type[TimerRecord],
) -> None:
    fields = {field.name for field in dataclasses.fields(record_type)} | {"kind"}
    assert documented_keys("metrics.md")[record_type.kind] == fields


@pytest.mark.parametrize("record_type", RECORD_TYPES, ids=lambda cls: cls.kind)
def test_every_field_added_since_schema_1_has_its_version_note(
    record_type: type[CallRecord] | type[AgentRecord] | type[TimerRecord],
) -> None:
    """A field added without raising the schema (absent while None) is named in the page's Versions list."""
    versions = (DOCS / "metrics.md").read_text(encoding="utf-8").split("## Versions", 1)[1]
    added = [f.name for f in dataclasses.fields(record_type) if f.metadata.get("additive")]
    assert all(f"`{name}`" in versions for name in added), added


def test_the_pages_document_the_schemas_the_code_writes() -> None:
    assert (
        (DOCS / "metrics.md")
        .read_text(encoding="utf-8")
        .startswith(f"# metrics.jsonl: the metric records (schema {SCHEMA})")
    )
    assert all(example["schema"] == SCHEMA for example in metric_examples())
    assert (
        (DOCS / "state.md")
        .read_text(encoding="utf-8")
        .startswith(f"# state.json: the run's state (schema {STATE_SCHEMA})")
    )
    assert state_example()["schema"] == STATE_SCHEMA


# ---------------------------------------------------------------- state.json
def state_example() -> dict[str, Any]:
    (block,) = json_blocks("state.md")
    data: dict[str, Any] = json.loads(block)
    return data


def test_the_state_example_round_trips_through_the_one_reader(tmp_path: Path) -> None:
    example = state_example()
    (tmp_path / "state.json").write_text(json.dumps(example), encoding="utf-8")
    state = load_state(tmp_path)
    assert isinstance(state, RunState)
    assert state.to_json() == example
    assert list(state.agents) == list(example["pipeline"])
    assert all(isinstance(agent, AgentState) for agent in state.agents.values())
    assert state.run_id in state.worktree and state.branch == f"autodev/{state.run_id}"


def test_a_state_file_that_is_not_a_runs_state_is_a_one_line_user_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"schema": 1, "run_id": "x"}), encoding="utf-8")
    with pytest.raises(errors.UserError, match="is not a run's state"):
        load_state(tmp_path)


def _is_record_type(hint: object) -> bool:
    return isinstance(hint, type) and (dataclasses.is_dataclass(hint) or issubclass(hint, pydantic.BaseModel))


def _field_names(cls: type) -> list[str]:
    """A record type's fields, in the names its JSON uses (a dataclass, or a pydantic model's aliases)."""
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return [info.alias or name for name, info in cls.model_fields.items()]
    return [field.name for field in dataclasses.fields(cls)]


def _record_types(hint: object) -> list[type]:
    """The record types a field's type holds: `X`, `X | None`, `list[X]`, `dict[str, X]`."""
    if _is_record_type(hint):
        return [typing.cast(type, hint)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) in (typing.Union, list, dict, tuple):
        return [found for arg in typing.get_args(hint) for found in _record_types(arg)]
    return []


def _undocumented(cls: type, section: str, documented: dict[str, set[str]]) -> list[str]:
    """Each field of `cls` (and, recursively, of the record types its fields hold) missing from its table."""
    problems = []
    keys = documented.get(section, set())
    hints = typing.get_type_hints(cls)
    for name in _field_names(cls):
        if name not in keys:
            problems.append(f"{section}.{name}")
        for inner in _record_types(hints.get(name)):
            problems += _undocumented(inner, name if section == "Keys" else f"{section}.{name}", documented)
    return problems


def test_every_field_of_the_state_and_its_sections_is_documented() -> None:
    documented = documented_keys("state.md")
    assert _undocumented(RunState, "Keys", documented) == []
    assert documented["Keys"] == {*_field_names(RunState), "schema"}
    assert documented["agents"] == set(_field_names(AgentState))


def test_every_section_of_the_state_example_is_documented_key_for_key() -> None:
    """The sections that are still plain objects in the code: their documented keys cover the example's."""
    documented = documented_keys("state.md")
    example = state_example()
    for section in ("change_type", "gate", "diff", "handoff_budget", "progress", "options"):
        assert set(example[section]) <= documented[section], section
    assert set(example["gate"]["tests"]) == documented["gate.tests"]
    for checkpoint in example["checkpoints"]:
        assert set(checkpoint) == documented["checkpoints"]


# ---------------------------------------------------------------- exit codes
def documented_exit_codes() -> set[int]:
    page = (DOCS / "exit-codes.md").read_text(encoding="utf-8")
    return {int(code) for code in re.findall(r"^\| `(\d+)` \|", page, re.MULTILINE)}


def test_every_exit_code_the_cli_uses_is_documented() -> None:
    used = {0, 2}  # success, and click's usage errors
    used |= {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and hasattr(cls, "exit_code")}
    used |= {code for name, code in vars(errors).items() if name.startswith("EXIT_")}  # a run's own outcomes
    for source in CLI.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        used |= {int(code) for code in re.findall(r"SystemExit\((\d+)\)", text)}
        used |= {int(code) for code in re.findall(r"^\s+return (\d+)$", text, re.MULTILINE)}
    assert used == documented_exit_codes() == {0, 1, 2, 3, 4, 130}
    assert (errors.UserError.exit_code, errors.RunError.exit_code, errors.RunInterrupted.exit_code) == (2, 1, 130)
