"""`autodev bench selection-plan FILE`: selection after the plan, measured with a real model.

The request-level benchmark (`bench selection`) stops where a run's selection goes on: a feature request
whose plan changes only documentation, configuration or packaging takes that class's path after the
planner (`run.selection.after_plan`). Whether that reaches the no-code commits that the words cannot
(docs/selection.md) depends on what a model plans, so this benchmark asks one: for a sample of the
commits, the configured model plans the request with the planner's own instructions, from the request
and the repository's file listing (no research and no tools: a lower bound of what the planner knows in
a run), and the run's own decision (`narrow_after_plan`) is applied to each plan. A commit takes a fast
path when its request does, or when its plan narrows it; the two rates are the request benchmark's.

Only the feature requests are planned (a request on a fast path is decided before the plan). Each
answer is appended to the answers file as it arrives, so a stopped run keeps what it paid for, a second
run asks nothing again, and the figures can be printed from the answers alone (`--offline`).
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autodev.apps.bench.selection import read_records, repository_lookups
from autodev.apps.bench.selection_figures import TARGET_RECALL, TARGET_UNSAFE_RATE
from autodev.apps.bench.selection_plan_ask import Asker, PlanAnswer
from autodev.core.errors import UserError
from autodev.run.driver import PLAN_AGENT
from autodev.run.graph import FEATURE_PIPELINE, topological_order
from autodev.run.selection.after_plan import narrow_after_plan
from autodev.run.selection.decide import Selection
from autodev.run.selection.diff import files_from_numstat
from autodev.run.selection.overrides import change_authors
from autodev.run.selection.paths import path_kind
from autodev.run.selection.repo import ListingLookup
from autodev.run.selection.request import RequestClass, classify_request

# The agents still to come when the bundled pipeline's planner finishes, and those that write the change.
PENDING = tuple(topological_order(FEATURE_PIPELINE)[topological_order(FEATURE_PIPELINE).index(PLAN_AGENT) + 1 :])
PROTECTED = tuple(change_authors(FEATURE_PIPELINE))


@dataclass(frozen=True)
class Commit:
    sha: str
    repo: str
    request: str
    code_changed: bool
    files: tuple[str, ...] = ()  # what it changed (for the oracle's plans)


@dataclass(frozen=True)
class Verdict:
    """How one sampled commit's run is selected: by its request, after its plan, or not at all."""

    commit: Commit
    # request: its request's fast path; plan: narrowed by its plan; planned: planned, not narrowed;
    # unplanned: no plan in the answers yet
    decided_by: str
    change_type: str  # the class the run takes


@dataclass
class Tally:
    """The counts behind the figures, for the whole sample or one project."""

    commits: int = 0
    no_code: int = 0
    by_request: int = 0
    by_request_unsafe: int = 0
    planned: int = 0
    by_plan: int = 0
    by_plan_unsafe: int = 0
    unplanned: int = 0

    def add(self, verdict: Verdict) -> None:
        self.commits += 1
        self.no_code += not verdict.commit.code_changed
        self.planned += verdict.decided_by in ("plan", "planned")
        self.unplanned += verdict.decided_by == "unplanned"
        if verdict.decided_by == "request":
            self.by_request += 1
            self.by_request_unsafe += verdict.commit.code_changed
        elif verdict.decided_by == "plan":
            self.by_plan += 1
            self.by_plan_unsafe += verdict.commit.code_changed

    def figures(self) -> dict[str, Any]:
        def share(part: int, whole: int) -> float | None:
            return part / whole if whole else None

        fast, unsafe = self.by_request + self.by_plan, self.by_request_unsafe + self.by_plan_unsafe
        return {
            **asdict(self),
            "request_unsafe_rate": share(self.by_request_unsafe, self.by_request),
            "request_recall": share(self.by_request - self.by_request_unsafe, self.no_code),
            "plan_unsafe_rate": share(self.by_plan_unsafe, self.by_plan),
            "unsafe_rate": share(unsafe, fast),
            "recall": share(fast - unsafe, self.no_code),
            "within_target": (share(unsafe, fast) or 0.0) <= TARGET_UNSAFE_RATE
            and (share(fast - unsafe, self.no_code) or 0.0) >= TARGET_RECALL,
        }


@dataclass
class PlanBenchResult:
    file: str
    records: int
    sample: int
    seed: int
    model: str
    answers: str
    asked: int
    cost_usd: float | None
    overall: dict[str, Any]
    per_repo: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def commits_of(records: Iterable[Mapping[str, Any]]) -> list[Commit]:
    return [
        Commit(
            str(r.get("sha") or i),
            str(r.get("repo") or "(unknown)"),
            str(r["message"]),
            bool(r["code_changed"]),
            tuple(f.path for f in files_from_numstat(f for f in r["files"] if isinstance(f, dict))),
        )
        for i, r in enumerate(records)
    ]


ORACLE = "oracle"  # the model name of plans that name exactly the commit's files


def oracle_plan(commit: Commit) -> str:
    """The plan of a planner that knows where the change lands: every file the commit changed, and its test
    files as the tests to write. What it narrows is the most the selection after the plan can narrow."""
    changes = "\n".join(f"{n}. {path} — as the commit changed it" for n, path in enumerate(commit.files, 1))
    tests = [path for path in commit.files if path_kind(path) == "tests"]
    wanted = "\n".join(f"- {path} — as the commit changed it" for path in tests) or "- none"
    goal = commit.request.splitlines()[0] if commit.request.strip() else ""
    return f"## Goal\n{goal}\n## Changes\n{changes}\n## Tests to write\n{wanted}\n"


def sample_of(commits: Sequence[Commit], size: int | None, seed: int) -> list[Commit]:
    """`size` commits drawn at random (the same for the same seed), in the file's order; None: all."""
    if size is None or size >= len(commits):
        return list(commits)
    chosen = sorted(random.Random(seed).sample(range(len(commits)), size))
    return [commits[i] for i in chosen]


def verdict(commit: Commit, classified: RequestClass, lookup: ListingLookup, plan: str | None) -> Verdict:
    """`classified`: the commit's request as the classifier sees it (a feature request is always planned:
    with the default policy and no flags, the plan may narrow every one)."""
    if classified.fast_path:
        return Verdict(commit, "request", classified.change_type)
    selection = Selection(classified.change_type, classified.reasons)
    if plan is None:
        return Verdict(commit, "unplanned", "feature")
    narrowed = narrow_after_plan(selection, plan, lookup, PENDING, PROTECTED)
    if narrowed is None:
        return Verdict(commit, "planned", "feature")
    return Verdict(commit, "plan", narrowed.change_type)


def read_answers(path: Path, model: str) -> dict[str, PlanAnswer]:
    """The plans already paid for, by commit, for this model (other models' lines are kept, not used)."""
    found: dict[str, PlanAnswer] = {}
    for line in _lines(path):
        try:
            answer = PlanAnswer.from_json(line)
        except (TypeError, ValueError):
            raise UserError(
                f"{path}: the answer for {str(line['sha'])[:40]} has a field of the wrong type",
                hint="pass another --answers file, or remove that line",
            ) from None
        if answer.model == model:
            found[answer.sha] = answer
    return found


def answered_model(path: Path) -> str:
    """The model whose plans the answers file holds, for --offline without a provider configured."""
    models = sorted({str(line["model"]) for line in _lines(path)})
    if len(models) != 1:
        held = f"plans of {', '.join(models)}" if models else "no plans"
        raise UserError(f"{path}: {held}", hint="name the model: --model balanced=ID (the planner's tier)")
    return models[0]


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UserError(f"{path}: cannot be read as text", hint="pass another --answers file") from None
    found: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            data = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            data = "bad"
        if data is None:
            continue
        if not isinstance(data, dict) or not {"sha", "model", "plan"} <= data.keys():
            raise UserError(
                f"{path}:{number}: not an answer line of this benchmark",
                hint="pass another --answers file, or remove that line",
            )
        found.append(data)
    return found


def writable(answers: Path) -> None:
    """Refuse, before anything is paid for, an answers file that cannot be written."""
    where = answers
    while not where.exists() and where != where.parent:
        where = where.parent  # the file, or the nearest folder it would be made in
    usable = where.is_file() if where == answers else where.is_dir()
    if not usable or not os.access(where, os.W_OK):
        raise UserError(
            f"cannot write the answers file {answers}", hint="pass --answers with a path in a folder you can write"
        )


def selection_plan_benchmark(
    path: Path,
    asker: Asker | None,
    *,
    model: str,
    answers: Path,
    sample: int | None,
    seed: int,
    on_asking: Callable[[int], None] = lambda count: None,
    oracle: bool = False,
) -> PlanBenchResult:
    """`asker` None: offline, the figures from the answers file alone (commits without a plan are
    counted as not narrowed, and said). `on_asking`: told how many plans are about to be asked for.
    `oracle`: no model and no answers file; every plan names exactly the files its commit changed."""
    records, _ = read_records(path)
    usable = [r for r in records if isinstance(r.get("code_changed"), bool)]
    if not usable:
        raise UserError(f"{path}: no record has a code_changed label", hint="the benchmark needs labelled commits")
    lookups = repository_lookups(usable)
    commits = sample_of(commits_of(usable), sample, seed)
    if oracle:
        model, asker = ORACLE, None
        known = {c.sha: PlanAnswer(c.sha, ORACLE, oracle_plan(c)) for c in commits}
    else:
        known = read_answers(answers, model)
    classes = {c.sha: classify_request(c.request, lookups[c.repo]) for c in commits}
    todo = [c for c in commits if c.sha not in known and not classes[c.sha].fast_path]
    asked = 0
    if asker is not None and todo:
        writable(answers)
        on_asking(len(todo))
        for answer in asker.ask_all([(c.sha, c.request, lookups[c.repo].listing()) for c in todo], answers):
            known[answer.sha] = answer
            asked += 1
    overall, per_repo = Tally(), defaultdict[str, Tally](Tally)
    for commit in commits:
        plan = known.get(commit.sha)
        found = verdict(commit, classes[commit.sha], lookups[commit.repo], plan.plan if plan is not None else None)
        overall.add(found)
        per_repo[commit.repo].add(found)
    used = [known[c.sha] for c in commits if c.sha in known]
    costs = [answer.cost_usd for answer in used]
    cost = None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 4)
    return PlanBenchResult(
        file=str(path),
        records=len(usable),
        sample=len(commits),
        seed=seed,
        model=model,
        answers="" if oracle else str(answers),
        asked=asked,
        cost_usd=cost,
        overall=overall.figures(),
        per_repo={repo: tally.figures() for repo, tally in sorted(per_repo.items())},
    )
