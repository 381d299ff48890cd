"""The official predictions file, its validator, and the side file of cost and time.

`OUT.jsonl` holds one JSON object per line with exactly the three keys SWE-bench's harness reads
(`swebench.harness.utils.get_predictions_from_file` and `run_evaluation.run_instance`):

- `instance_id` (str): required, and unique (the harness keys a dict by it, so a repeat would silently
  replace the first);
- `model_name_or_path` (str): the harness calls `.replace("/", "__")` on it for its log directory;
- `model_patch` (str): written to `patch.diff` and applied with `git apply`; "" is an empty patch.

`OUT.meta.jsonl` (beside it: the predictions path with `.meta.jsonl` for `.jsonl`) holds one line per
instance with what the harness does not read: status, cost, tokens, time, the local grade.

Each line is appended and flushed as its instance finishes, so an interrupted run resumes: an instance
whose id is already in OUT is not run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autodev.core.errors import UserError
from autodev.core.jsonio import write_text_atomic

KEYS = ("instance_id", "model_name_or_path", "model_patch")


def meta_path(predictions: Path) -> Path:
    name = predictions.name.removesuffix(".jsonl")
    return predictions.with_name(name + ".meta.jsonl")


def check_predictions_path(path: Path) -> None:
    if path.suffix != ".jsonl":
        raise UserError(f"--predictions {path}: must end in .jsonl", hint="the harness reads .json or .jsonl")


def prediction_problems(line: str, number: int) -> list[str]:
    """What keeps one line from being read by the official harness (an empty list: nothing)."""
    where = f"line {number}"
    try:
        data = json.loads(line)
    except ValueError as exc:
        return [f"{where}: not JSON: {exc}"]
    if not isinstance(data, dict):
        return [f"{where}: each prediction must be a JSON object"]
    problems = [f"{where}: {key} is missing" for key in KEYS if key not in data]
    problems += [
        f"{where}: {key} must be a string, not {type(data[key]).__name__}"
        for key in KEYS
        if key in data and not isinstance(data[key], str)
    ]
    extra = sorted(set(data) - set(KEYS))
    if extra:
        problems.append(f"{where}: keys the format does not have: {', '.join(extra)}")
    if isinstance(data.get("instance_id"), str) and not data["instance_id"]:
        problems.append(f"{where}: instance_id is empty")
    return problems


def validate_predictions(path: Path, dataset_ids: set[str] | None = None) -> list[str]:
    """Every problem that would stop the official harness reading `path` or misread it; [] when none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"cannot read {path}: {exc}"]
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            problems.append(f"line {number}: empty (the harness reads every line as JSON)")
            continue
        found = prediction_problems(line, number)
        problems += found
        if found:
            continue
        instance_id = json.loads(line)["instance_id"]
        if instance_id in seen:
            problems.append(f"line {number}: {instance_id} appears twice")
        seen.add(instance_id)
        if dataset_ids is not None and instance_id not in dataset_ids:
            problems.append(f"line {number}: {instance_id} is not in the dataset (the harness refuses it)")
    return problems


def done_ids(path: Path) -> set[str]:
    """The instances already in the predictions file (a line cut short by a crash is ignored and redone)."""
    if not path.is_file():
        return set()
    ids = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not prediction_problems(line, number):
            ids.add(json.loads(line)["instance_id"])
    return ids


def drop_broken_lines(path: Path) -> int:
    """Remove the lines the harness could not read (one cut short by a crash) before resuming; how many."""
    if not path.is_file():
        return 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    kept = [line for number, line in enumerate(lines, 1) if line.strip() and not prediction_problems(line, number)]
    if len(kept) != len(lines):
        write_text_atomic(path, "".join(line + "\n" for line in kept))
    return len(lines) - len(kept)


def append_line(path: Path, record: Mapping[str, Any]) -> None:
    """One JSON line, flushed to disk before the next instance starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(record), ensure_ascii=False) + "\n"
    if path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        text = "\n" + text  # a line an interrupted run left unfinished stays a line of its own
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def prediction(instance_id: str, model: str, patch: str) -> dict[str, str]:
    return {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch}
