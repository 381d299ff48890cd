"""SWE-bench instances from a local file: the Hugging Face dataset's rows, as jsonl or parquet.

Only the fields the pipeline and the local grade use are read; `FAIL_TO_PASS` and `PASS_TO_PASS` are
JSON-encoded lists in the published datasets and plain lists in some exports: both are accepted.
Parquet needs pyarrow (`pip install 'autodev[parquet]'`); without it, a one-line error says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.core.errors import UserError

REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement")
GITHUB_REPO = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
PARQUET_HINT = "install the optional extra: pip install 'autodev[parquet]' (pyarrow), or convert the file to .jsonl"


@dataclass(frozen=True)
class Instance:
    instance_id: str
    repo: str  # owner/name on GitHub
    base_commit: str
    problem_statement: str  # the only text the agents get
    patch: str = ""  # the gold patch: the oracle's answer, never shown to an agent
    test_patch: str = ""  # hidden
    fail_to_pass: tuple[str, ...] = ()  # hidden
    pass_to_pass: tuple[str, ...] = ()  # hidden


def _tests(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise UserError(f"{where}: not a JSON list of test names") from None
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise UserError(f"{where}: not a list of test names")
    return tuple(value)


def instance_from(row: Mapping[str, Any], where: str) -> Instance:
    missing = [key for key in REQUIRED if not isinstance(row.get(key), str) or not row.get(key)]
    if missing:
        raise UserError(f"{where}: not a SWE-bench instance: {', '.join(missing)} missing or not text")
    if not GITHUB_REPO.fullmatch(row["repo"]):  # it names a clone's folder and a URL: no "..", no options
        raise UserError(
            f"{where}: repo {row['repo']!r} is not owner/name", hint="SWE-bench names repos as django/django"
        )
    return Instance(
        instance_id=row["instance_id"],
        repo=row["repo"],
        base_commit=row["base_commit"],
        problem_statement=row["problem_statement"],
        patch=str(row.get("patch") or ""),
        test_patch=str(row.get("test_patch") or ""),
        fail_to_pass=_tests(row.get("FAIL_TO_PASS"), f"{where}: FAIL_TO_PASS"),
        pass_to_pass=_tests(row.get("PASS_TO_PASS"), f"{where}: PASS_TO_PASS"),
    )


def _jsonl_rows(path: Path) -> list[tuple[str, Any]]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path.name}:{number}", json.loads(line)))
        except ValueError as exc:
            raise UserError(f"{path.name}:{number}: not JSON: {exc}") from None
    return rows


def _parquet_rows(path: Path) -> list[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise UserError(f"{path.name}: reading parquet needs pyarrow", hint=PARQUET_HINT) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's own errors: a file that is not parquet, or damaged
        raise UserError(f"{path.name}: not a readable parquet file: {exc}") from None
    return [(f"{path.name}: row {i + 1}", row) for i, row in enumerate(table.to_pylist())]


def load_instances(path: Path) -> list[Instance]:
    if not path.is_file():
        raise UserError(f"dataset {path} does not exist", hint="give a SWE-bench .jsonl or .parquet file")
    if path.suffix == ".parquet":
        rows = _parquet_rows(path)
    elif path.suffix in (".jsonl", ".json"):
        rows = _jsonl_rows(path)
    else:
        raise UserError(f"dataset {path}: expected a .jsonl or .parquet file")
    instances = []
    for where, row in rows:
        if not isinstance(row, Mapping):
            raise UserError(f"{where}: not a JSON object")
        instances.append(instance_from(row, where))
    if not instances:
        raise UserError(f"dataset {path} holds no instances")
    ids = [i.instance_id for i in instances]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise UserError(f"dataset {path}: instance ids appear twice: {', '.join(twice[:5])}")
    return instances


def select_instances(instances: Sequence[Instance], ids: str | None, part: str | None) -> list[Instance]:
    """`--instances ID,...` (in the dataset's order) or `--slice A:B` (Python's slice of the dataset)."""
    if ids and part:
        raise UserError("give --instances or --slice, not both")
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        known = {i.instance_id for i in instances}
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise UserError(f"not in the dataset: {', '.join(unknown[:5])}", hint="ids are the instance_id column")
        return [i for i in instances if i.instance_id in set(wanted)]
    if part:
        start, sep, stop = part.partition(":")
        try:
            chosen = list(instances)[slice(int(start) if start else None, int(stop) if stop else None)] if sep else None
        except ValueError:
            chosen = None
        if chosen is None:
            raise UserError(f"--slice {part!r} is not A:B", hint="e.g. --slice 0:10 for the first ten instances")
        if not chosen:
            raise UserError(f"--slice {part} selects no instance of {len(instances)}")
        return chosen
    return list(instances)
