"""`autodev bench context`: does budgeted retrieval find the files a commit changed, from its message alone?

For each record (`sha`, `message`) of a JSONL file, the repository is read at the commit's parent
straight from git's object store (no worktree, no checkout: the user's files are never touched), the
context is built from the message at each budget, and the recall of the commit's changed non-test
source files (those that already existed at the parent) is measured. A whole-file BM25 baseline
(files ranked by BM25 on the message, packed whole while they fit) is measured at the same budgets in
the same run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autodev.agent.context.ranking import is_doc_path, is_test_path, rank
from autodev.agent.context.repomap import map_commit
from autodev.agent.context.retrieval import pack, pack_whole_files
from autodev.core.errors import UserError
from autodev.core.gitops import git

DEFAULT_BUDGETS = (2000, 4000, 8000)
_SOURCE_SUFFIXES = """py pyi pyx js jsx mjs cjs ts tsx vue svelte go rs java kt kts scala groovy c h cc cpp cxx hh
hpp hxx cs fs rb php swift m mm dart lua pl pm r jl ex exs erl hrl clj cljs elm hs ml mli sh bash zsh ps1 sql zig
nim cr v sol"""
SOURCE_EXTENSIONS = frozenset(_SOURCE_SUFFIXES.split())


def is_source_path(path: str) -> bool:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix in SOURCE_EXTENSIONS and not is_test_path(path) and not is_doc_path(path)


def read_commits(path: Path) -> list[dict[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text", hint="pass a JSONL file of commits") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("sha"), str):
            raise UserError(f'{path}:{number}: each line needs a "sha" and a "message"')
        records.append({"sha": record["sha"], "message": str(record.get("message") or "")})
    return records


def _resolve(repo: Path, sha: str) -> tuple[str, str] | None:
    """(commit, parent) full ids, or None when the commit or its parent is not in the repository."""
    ids = []
    for rev in (f"{sha}^{{commit}}", f"{sha}^1^{{commit}}"):  # a root commit has no parent: skipped too
        found = git(["rev-parse", "--verify", "--quiet", "--end-of-options", rev], repo, check=False)
        if found.returncode != 0:
            return None
        ids.append(found.stdout.strip())
    return ids[0], ids[1]


def changed_sources(repo: Path, parent: str, commit: str, existing: set[str]) -> list[str]:
    names = git(["diff", "--name-only", "--no-renames", "-z", parent, commit], repo).stdout
    return sorted(p for p in set(filter(None, names.split("\0"))) if p in existing and is_source_path(p))


def context_benchmark(
    repo: Path, commits_file: Path, budgets: Sequence[int], predictions: Path | None = None
) -> dict[str, Any]:
    budgets = sorted(set(budgets)) or list(DEFAULT_BUDGETS)
    records = read_commits(commits_file)
    skipped_missing = skipped_no_source = 0
    methods = ("retrieval", "baseline")
    recalls: dict[str, dict[int, list[float]]] = {m: {b: [] for b in budgets} for m in methods}
    tokens: dict[str, dict[int, list[float]]] = {m: {b: [] for b in budgets} for m in methods}
    lines: list[str] = []
    for record in records:
        ids = _resolve(repo, record["sha"])
        if ids is None:
            skipped_missing += 1
            continue
        commit, parent = ids
        repo_map = map_commit(repo, parent)
        gold = set(changed_sources(repo, parent, commit, {e.path for e in repo_map.files}))
        if not gold:
            skipped_no_source += 1
            continue
        ranking = rank(repo_map, record["message"])
        for budget in budgets:
            ours = pack(ranking, budget)
            base = pack_whole_files(repo_map, record["message"], budget)
            for name, result in (("retrieval", ours), ("baseline", base)):
                recalls[name][budget].append(len(gold & set(result.paths)) / len(gold))
                tokens[name][budget].append(result.total_tokens)
            lines.append(
                json.dumps({"sha": record["sha"], "budget": budget, "files": ours.paths, "tokens": ours.total_tokens})
            )
    if predictions is not None:
        predictions.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def mean(values: Sequence[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return {
        "repo": str(repo),
        "records": len(records),
        "measured": len(recalls["retrieval"][budgets[0]]),
        "skipped_missing": skipped_missing,
        "skipped_no_source_change": skipped_no_source,
        "budgets": [
            {
                "budget": b,
                "recall": mean(recalls["retrieval"][b]),
                "baseline_recall": mean(recalls["baseline"][b]),
                "mean_tokens": mean(tokens["retrieval"][b]),
                "baseline_mean_tokens": mean(tokens["baseline"][b]),
            }
            for b in budgets
        ],
        "predictions": str(predictions) if predictions is not None else None,
    }
