"""Any suite by what the user typed: a polyglot-benchmark folder, or what `tasks.load_suite` reads.

Its own module because the polyglot loader builds on `tasks` (Exercism's layout), so `tasks` can't
call it without an import cycle.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from autodev.apps.eval.polyglot.suite import is_polyglot, load_polyglot
from autodev.apps.eval.tasks import BUILTIN_NAMES, Suite, load_suite
from autodev.core.errors import UserError


def load_any_suite(spec: str) -> Suite:
    root = Path(spec).expanduser()
    if root.suffix in (".jsonl", ".parquet") and root.is_file():
        raise UserError(
            f"{spec} is a dataset file, not a suite directory",
            hint=f"for SWE-bench: autodev eval swebench --dataset {spec} --predictions OUT.jsonl",
        )
    if spec not in BUILTIN_NAMES and is_polyglot(root):
        loaded = load_polyglot(root)
        return replace(loaded.suite, skipped=loaded.skipped)
    return load_suite(spec)
