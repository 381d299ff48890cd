"""`[selection]` in config: change types and the skip policy's settings (the policy is `autodev.run.selection`)."""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, field_validator

CHANGE_TYPES: tuple[str, ...] = ("docs", "typo", "config", "deps", "feature")
FAST_PATHS: frozenset[str] = frozenset({"docs", "typo", "config", "deps"})
# Packaging and dependency changes change what users install: whatever the config says, they get the
# security audit and the test gate (`autodev.run.selection.policy`).
# The bundled agents that audit security: a security-sensitive request never skips them, not even after its plan.
AUDITORS: tuple[str, ...] = ("security-auditor",)
DEPS_ALWAYS: tuple[str, ...] = AUDITORS
NEVER_SKIP_GATE: frozenset[str] = frozenset({"deps", "feature"})


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
        kept = sorted(set(value.get("deps", ())) & set(DEPS_ALWAYS))
        if kept:
            raise ValueError(
                f"selection.skips.deps: {', '.join(kept)} always runs for packaging and dependency changes"
            )
        return value

    @field_validator("skip_gate")
    @classmethod
    def _known_gate_classes(cls, value: list[str] | None) -> list[str] | None:
        _check_classes(value or (), "selection.skip_gate")
        refused = sorted(set(value or ()) & NEVER_SKIP_GATE)
        if refused:
            raise ValueError(f"selection.skip_gate: the test gate always runs for {', '.join(refused)} changes")
        return value
