"""`autodev bench selection FILE.jsonl`: the request classifier against what real commits touched.

Each record is a real commit: `{"sha", "message", "files": [{"path", "added", "deleted"}], "repo"?}`.
The request is the commit message (what a person asked for); the truth is the diff classifier applied
to `files` by path and line counts alone (no contents, so a docstring-only edit of a .py file counts as
code here, though a real run's re-check would see it as docs: the benchmark errs on the unsafe side).

Figures:
- a confusion matrix, request class (rows) x diff class (columns);
- the unsafe fast-path rate: requests sent down a fast path (docs, typo, config) whose commit changed
  code (diff class feature), over all records (target <= 2 %), and over the fast-path requests;
- the fast-path share: of the commits that changed no code (diff class docs, typo or config), how many
  the request classifier sent down a fast path (any), and down their own class.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from autodev.config.selection import CHANGE_TYPES, FAST_PATHS
from autodev.core.errors import UserError
from autodev.run.selection.diff import classify_diff, files_from_numstat
from autodev.run.selection.request import classify_request

TARGET_UNSAFE_RATE = 0.02


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _figures(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    confusion = {req: dict.fromkeys(CHANGE_TYPES, 0) for req in CHANGE_TYPES}
    for request_class, diff_class in pairs:
        confusion[request_class][diff_class] += 1
    total = len(pairs)
    fast_requests = sum(1 for req, _ in pairs if req in FAST_PATHS)
    unsafe = sum(1 for req, diff in pairs if req in FAST_PATHS and diff == "feature")
    no_code = [(req, diff) for req, diff in pairs if diff != "feature"]
    got_fast = sum(1 for req, _ in no_code if req in FAST_PATHS)
    got_own = sum(1 for req, diff in no_code if req == diff)
    per_class: dict[str, float | None] = {}
    for kind in ("docs", "typo", "config"):
        real = [req for req, diff in pairs if diff == kind]
        per_class[kind] = _ratio(sum(1 for req in real if req in FAST_PATHS), len(real))
    return {
        "records": total,
        "confusion": confusion,
        "request_classes": dict(Counter(req for req, _ in pairs)),
        "diff_classes": dict(Counter(diff for _, diff in pairs)),
        "fast_path_requests": fast_requests,
        "unsafe": unsafe,
        "unsafe_rate": _ratio(unsafe, total),
        "unsafe_rate_of_fast_paths": _ratio(unsafe, fast_requests),
        "no_code_commits": len(no_code),
        "no_code_got_fast_path": got_fast,
        "fast_path_share": _ratio(got_fast, len(no_code)),
        "own_class_share": _ratio(got_own, len(no_code)),
        "fast_path_share_by_diff_class": per_class,
    }


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The usable records, and how many lines were skipped (not JSON, or no message / files)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file", hint="pass a JSONL file of commits (one JSON object a line)")
    records: list[dict[str, Any]] = []
    skipped = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if not isinstance(record, dict) or not isinstance(record.get("files"), list) or "message" not in record:
                skipped += 1
                continue
            records.append(record)
    return records, skipped


def selection_benchmark(path: Path, predictions: Path | None = None) -> dict[str, Any]:
    records, skipped = read_records(path)
    if not records:
        raise UserError(f"{path}: no usable records", hint='each line needs {"message": ..., "files": [...]}')
    pairs: list[tuple[str, str]] = []
    by_repo: dict[str, list[tuple[str, str]]] = defaultdict(list)
    lines: list[str] = []
    for record in records:
        request = classify_request(str(record["message"]))
        diff = classify_diff(files_from_numstat(f for f in record["files"] if isinstance(f, dict)))
        pair = (request.change_type, diff.change_type)
        pairs.append(pair)
        by_repo[str(record.get("repo") or "(unknown)")].append(pair)
        if predictions is not None:
            reasons = [f"request: {reason}" for reason in request.reasons] + list(diff.reasons)
            row = {
                "sha": record.get("sha"),
                "request_class": request.change_type,
                "diff_class": diff.change_type,
                "reasons": reasons,
            }
            lines.append(json.dumps(row, ensure_ascii=False))
    if predictions is not None:
        predictions.parent.mkdir(parents=True, exist_ok=True)
        predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = {"file": str(path), "skipped_lines": skipped, "classes": list(CHANGE_TYPES), **_figures(pairs)}
    repos = {repo: _figures(repo_pairs) for repo, repo_pairs in sorted(by_repo.items())}
    result["per_repo"] = {
        repo: {
            key: figures[key]
            for key in ("records", "unsafe", "unsafe_rate", "unsafe_rate_of_fast_paths", "fast_path_share")
        }
        for repo, figures in repos.items()
    }
    result["target_unsafe_rate"] = TARGET_UNSAFE_RATE
    result["within_target"] = (result["unsafe_rate"] or 0.0) <= TARGET_UNSAFE_RATE
    result["predictions"] = str(predictions) if predictions is not None else None
    return result
