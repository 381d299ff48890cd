"""`autodev bench selection FILE.jsonl`: the request classifier against what real commits touched.

Each record is a real commit: `{"sha", "message", "files": [{"path", "added", "deleted"}], "repo"?}`.
The request is the commit message (what a person asked for); the truth is the diff classifier applied
to `files` by path and line counts alone (no contents, so a docstring-only edit of a .py file counts as
code here, though a real run's re-check would see it as docs: the benchmark errs on the unsafe side).

The request classifier gets a lookup of the repository's files, as in a run; without a checkout, the
listing is approximated by every path the data set's commits of that repository touched.

Truth: a record's `code_changed` (see /work/shared/data/README.md: a syntax-tree comparison), else the
diff class. The figures (`selection_figures`): a confusion matrix, request class (rows) x diff class
(columns); the conditional unsafe rate (of fast-path requests, the share that changed code: leading,
target <= 2 %) and the unconditional one (over all commits); the recall of no-code commits (target
>= 50 %); per-class precision and recall; the outcome-level unsafe rate (0 by construction); all of it
per project too (`repo`), so that overfitting to one history shows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from autodev.apps.bench.selection_figures import TARGET_RECALL, TARGET_UNSAFE_RATE, Case, figures
from autodev.config.selection import CHANGE_TYPES
from autodev.core.errors import UserError
from autodev.run.selection.diff import classify_diff, files_from_numstat
from autodev.run.selection.repo import ListingLookup, listing_lookup
from autodev.run.selection.request import classify_request


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The usable records, and how many lines were skipped (not JSON, or no message / files)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file", hint="pass a JSONL file of commits (one JSON object a line)")
    records: list[dict[str, Any]] = []
    skipped = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):  # not text, or not JSON: not a record
                skipped += 1
                continue
            if not isinstance(record, dict) or not isinstance(record.get("files"), list) or "message" not in record:
                skipped += 1
                continue
            records.append(record)
    return records, skipped


def repository_lookups(records: list[dict[str, Any]]) -> dict[str, ListingLookup]:
    """Each repository's file lookup, as a run has it; without a checkout, its listing is every path
    the records of that repository touched."""
    listings: dict[str, set[str]] = defaultdict(set)
    for record in records:
        entries = (f for f in record["files"] if isinstance(f, dict))
        listings[str(record.get("repo") or "(unknown)")].update(f.path for f in files_from_numstat(entries))
    return {repo: listing_lookup(partial(frozenset, files)) for repo, files in listings.items()}


def selection_benchmark(path: Path, predictions: Path | None = None) -> dict[str, Any]:
    records, skipped = read_records(path)
    if not records:
        raise UserError(f"{path}: no usable records", hint='each line needs {"message": ..., "files": [...]}')
    lookups = repository_lookups(records)
    cases: list[Case] = []
    by_repo: dict[str, list[Case]] = defaultdict(list)
    lines: list[str] = []
    labelled = 0
    for record in records:
        request = classify_request(str(record["message"]), lookups[str(record.get("repo") or "(unknown)")])
        diff = classify_diff(files_from_numstat(f for f in record["files"] if isinstance(f, dict)))
        truth = record.get("code_changed")
        labelled += isinstance(truth, bool)
        case = Case(request.change_type, diff, truth if isinstance(truth, bool) else diff.change_type == "feature")
        cases.append(case)
        by_repo[str(record.get("repo") or "(unknown)")].append(case)
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
    result = {"file": str(path), "skipped_lines": skipped, "classes": list(CHANGE_TYPES), **figures(cases)}
    result["truth"] = (
        "code_changed" if labelled == len(cases) else f"code_changed on {labelled:,} records, else the diff class"
    )
    result["per_repo"] = {repo: _short(figures(repo_cases)) for repo, repo_cases in sorted(by_repo.items())}
    result["target_unsafe_rate"] = TARGET_UNSAFE_RATE
    result["target_recall"] = TARGET_RECALL
    result["predictions"] = str(predictions) if predictions is not None else None
    return result


def _short(full: dict[str, Any]) -> dict[str, Any]:
    """A project's line: the rates, the counts behind them, and the outcome level."""
    keys = (
        "records", "fast_path_requests", "unsafe", "unsafe_rate_of_fast_paths", "unsafe_rate", "no_code_commits",
        "no_code_got_fast_path", "fast_path_share", "within_target",
    )  # fmt: skip
    return {
        **{key: full[key] for key in keys},
        "outcome_unsafe": full["outcome"]["unsafe"],
        "per_class": full["per_class"],
    }
