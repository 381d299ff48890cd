"""`autodev bench selection-baseline FILE...`: how far a commit message's words alone can go.

The request classifier's targets are at most 2 % of fast paths changing code with at least half of
the no-code commits on a fast path. The hand-written rules fall short on recall, and the question
is whether any classifier of the words could do better. This module answers it with a learnt one:
a naive Bayes model of the first line's words and word pairs, learnt from the commits' own
`code_changed` labels, in two settings per project:
- **other projects**: learnt from every other project in the files given (how a classifier learnt
  from known histories does on a new one, which is what a user's repository is);
- **same project**: five-fold cross-validation inside the project (learnt from the project's own
  history: its vocabulary, its habits; more than any shipped classifier could know).

Its cut-off is chosen on the very commits it is judged on, as the one with the highest recall whose
fast paths change code at most 2 % of the time: the most favourable case for the model, so the
figure is an upper bound for it. Beside it, the rules' own figures on the same commits.

Pure Python and deterministic (folds by position), so the figures regenerate exactly.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.apps.bench.selection import read_records, repository_lookups
from autodev.apps.bench.selection_figures import TARGET_UNSAFE_RATE
from autodev.core.errors import UserError
from autodev.run.selection.request import classify_request

FOLDS = 5
SMOOTHING = 0.5  # additive smoothing of the word counts
WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Commit:
    project: str
    words: tuple[str, ...]  # the first line's words and word pairs
    code_changed: bool
    rules_fast: bool  # the request classifier sent it down a fast path


@dataclass(frozen=True)
class Reach:
    """A classifier's best operating point: the most no-code commits on a fast path at <= 2 % unsafe."""

    recall: float  # of the no-code commits, the share on a fast path
    fast_paths: int
    unsafe: int

    def as_dict(self) -> dict[str, Any]:
        return {"recall": self.recall, "fast_paths": self.fast_paths, "unsafe": self.unsafe}


@dataclass(frozen=True)
class ProjectBaseline:
    project: str
    commits: int
    no_code_commits: int
    rules: Reach  # the request classifier as it is (its own operating point, whatever its unsafe rate)
    other_projects: Reach | None  # None when the files hold one project only
    same_project: Reach

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "commits": self.commits,
            "no_code_commits": self.no_code_commits,
            "rules": self.rules.as_dict(),
            "other_projects": self.other_projects.as_dict() if self.other_projects else None,
            "same_project": self.same_project.as_dict(),
        }


def features(message: str) -> tuple[str, ...]:
    """The first line's lower-cased words, and each pair of neighbours (so "update docs" is one too)."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    words = WORD.findall(first.lower())
    return (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words)))


class NaiveBayes:
    """Two classes, changed code or not; the score is the log-odds of 'no code changed'."""

    def __init__(self, commits: Sequence[Commit]) -> None:
        self.counts: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
        docs = Counter(commit.code_changed for commit in commits)
        for commit in commits:
            self.counts[commit.code_changed].update(commit.words)
        self.vocabulary = len(set(self.counts[True]) | set(self.counts[False])) or 1
        self.totals = {label: sum(counts.values()) for label, counts in self.counts.items()}
        self.prior = math.log((docs[False] + 1) / (docs[True] + 1))

    def score(self, words: Sequence[str]) -> float:
        def log_likelihood(label: bool, word: str) -> float:
            denominator = self.totals[label] + SMOOTHING * self.vocabulary
            return math.log((self.counts[label][word] + SMOOTHING) / denominator)

        return self.prior + sum(log_likelihood(False, word) - log_likelihood(True, word) for word in words)


def best_reach(scored: Sequence[tuple[float, bool]]) -> Reach:
    """The cut-off with the highest recall whose fast paths change code at most 2 % of the time;
    commits with equal scores are taken together (a cut-off cannot split them)."""
    no_code = sum(1 for _, code in scored if not code)
    best = Reach(0.0, 0, 0)
    taken = unsafe = 0
    ordered = sorted(scored, key=lambda pair: -pair[0])
    for index, (score, code) in enumerate(ordered):
        taken += 1
        unsafe += code
        if index + 1 < len(ordered) and ordered[index + 1][0] == score:
            continue
        recall = (taken - unsafe) / no_code if no_code else 0.0
        if unsafe <= TARGET_UNSAFE_RATE * taken and recall > best.recall:
            best = Reach(recall, taken, unsafe)
    return best


def rules_reach(commits: Sequence[Commit]) -> Reach:
    fast = [commit for commit in commits if commit.rules_fast]
    no_code = sum(1 for commit in commits if not commit.code_changed)
    kept = sum(1 for commit in fast if not commit.code_changed)
    return Reach(kept / no_code if no_code else 0.0, len(fast), len(fast) - kept)


def _scored(model: NaiveBayes, commits: Sequence[Commit]) -> list[tuple[float, bool]]:
    return [(model.score(commit.words), commit.code_changed) for commit in commits]


def project_baseline(project: str, commits: Sequence[Commit], others: Sequence[Commit]) -> ProjectBaseline:
    folds: list[tuple[float, bool]] = []
    for fold in range(FOLDS):
        held = [commit for index, commit in enumerate(commits) if index % FOLDS == fold]
        learnt = [commit for index, commit in enumerate(commits) if index % FOLDS != fold]
        folds += _scored(NaiveBayes(learnt), held)
    return ProjectBaseline(
        project=project,
        commits=len(commits),
        no_code_commits=sum(1 for commit in commits if not commit.code_changed),
        rules=rules_reach(commits),
        other_projects=best_reach(_scored(NaiveBayes(others), commits)) if others else None,
        same_project=best_reach(folds),
    )


def load_commits(paths: Sequence[Path]) -> list[Commit]:
    """The labelled records of every file, each classified by the rules with its repository's lookup."""
    commits: list[Commit] = []
    for path in paths:
        records, _ = read_records(path)
        lookups = repository_lookups(records)
        for record in records:
            truth = record.get("code_changed")
            if not isinstance(truth, bool):
                continue
            project = str(record.get("repo") or "(unknown)")
            request = classify_request(str(record["message"]), lookups[project])
            commits.append(Commit(project, features(str(record["message"])), truth, request.fast_path))
    return commits


def selection_baseline(paths: Sequence[Path]) -> list[ProjectBaseline]:
    commits = load_commits(paths)
    if not commits:
        raise UserError(
            "no records with a code_changed label in " + ", ".join(str(path) for path in paths),
            hint='the baseline learns from each record\'s "code_changed": true or false',
        )
    by_project: dict[str, list[Commit]] = defaultdict(list)
    for commit in commits:
        by_project[commit.project].append(commit)
    return [
        project_baseline(project, own, [commit for commit in commits if commit.project != project])
        for project, own in sorted(by_project.items())
    ]
