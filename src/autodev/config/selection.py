"""`[selection]` in config: change types and the skip policy's settings (the policy is `autodev.run.selection`)."""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, field_validator

CHANGE_TYPES: tuple[str, ...] = ("docs", "typo", "config", "feature")
FAST_PATHS: frozenset[str] = frozenset({"docs", "typo", "config"})


def _check_classes(keys: Collection[str], where: str) -> None:
    unknown = sorted(set(keys) - set(CHANGE_TYPES))
    if unknown:
        raise ValueError(f"{where}: unknown change type(s) {', '.join(unknown)}; use {', '.join(CHANGE_TYPES)}")


class SelectionConfig(BaseModel):
    """`[selection]` in config."""

    model_config = ConfigDict(extra="forbid")
    skips: dict[str, list[str]] = {}
    skip_gate: list[str] | None = None

    @field_validator("skips")
    @classmethod
    def _known_classes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_classes(value, "selection.skips")
        return value

    @field_validator("skip_gate")
    @classmethod
    def _known_gate_classes(cls, value: list[str] | None) -> list[str] | None:
        _check_classes(value or (), "selection.skip_gate")
        return value
