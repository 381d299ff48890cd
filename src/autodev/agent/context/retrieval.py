"""Budgeted retrieval: the request's best code chunks, packed best-first into a token budget as snippets.

`build_context(repo, request, budget)` maps the repository (`repomap`), ranks its chunks lexically
(`ranking`) and packs them: each chosen file gets a header line, each chunk its line range, and a chunk
that no longer fits whole is cut to the lines that do. Successive chunks from one file count a little
less each time, so the pack covers several likely files before it deepens one. The rendered text is
counted with `count_tokens` and never exceeds the budget.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodev.agent.context.counting import count_tokens
from autodev.agent.context.ranking import Chunk, Ranking, rank, rank_whole_files
from autodev.agent.context.repomap import RepoMap, map_worktree

SAME_FILE_DECAY = 0.7  # each further chunk from an already chosen file scores this much less
MIN_PARTIAL_TOKENS = 40  # below this a cut chunk is not worth its header
MAX_CANDIDATES = 600


@dataclass
class Snippet:
    path: str
    start: int
    end: int
    label: str
    text: str
    score: float
    cut: bool = False

    def render(self) -> str:
        where = f"lines {self.start}-{self.end}" + (f" ({self.label})" if self.label else "")
        return f"{where}{' [cut]' if self.cut else ''}:\n```\n{self.text}\n```\n"


@dataclass
class ContextPack:
    request: str
    budget: int
    files: list[dict[str, Any]] = field(default_factory=list)  # {"path", "tokens", "score"}, rank order
    total_tokens: int = 0
    text: str = ""
    snippets: list[Snippet] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "total_tokens": self.total_tokens}

    @property
    def paths(self) -> list[str]:
        return [f["path"] for f in self.files]


def _header(path: str) -> str:
    return f"## {path}\n"


def _render(snippets: list[Snippet]) -> tuple[str, list[tuple[str, str]]]:
    order: list[str] = []
    by_file: dict[str, list[Snippet]] = {}
    for snippet in snippets:
        if snippet.path not in by_file:
            order.append(snippet.path)
        by_file.setdefault(snippet.path, []).append(snippet)
    sections = [
        (path, _header(path) + "".join(s.render() for s in sorted(by_file[path], key=lambda s: s.start)))
        for path in order
    ]
    return "\n".join(text for _, text in sections), sections


def _fit_lines(chunk: Chunk, lines: list[str], room: int) -> Snippet | None:
    """The longest head of `chunk` whose snippet costs at most `room` tokens."""
    low, high, best = 1, chunk.end - chunk.start, None
    while low <= high:
        mid = (low + high) // 2
        candidate = Snippet(
            chunk.path, chunk.start, chunk.start + mid - 1, chunk.label,
            "\n".join(lines[chunk.start - 1 : chunk.start - 1 + mid]), chunk.score, cut=True,
        )  # fmt: skip
        if count_tokens(candidate.render()) <= room:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best


def pack(ranking: Ranking, budget: int) -> ContextPack:
    """Best-first packing of `ranking`'s chunks into `budget` tokens."""
    lines_of = {e.path: e.lines for e in ranking.repo_map.files}
    candidates = ranking.chunks[:MAX_CANDIDATES]
    heap = [(-c.score, i, 0) for i, c in enumerate(candidates)]
    heapq.heapify(heap)
    taken: dict[str, int] = {}
    chosen: list[Snippet] = []
    used = 0
    while heap and budget - used >= MIN_PARTIAL_TOKENS // 2:
        _, i, seen = heapq.heappop(heap)
        chunk = candidates[i]
        count = taken.get(chunk.path, 0)
        if count != seen:  # the file gained chunks since this entry was scored: re-score, re-queue
            heapq.heappush(heap, (-chunk.score * SAME_FILE_DECAY**count, i, count))
            continue
        lines = lines_of[chunk.path]
        snippet = Snippet(
            chunk.path, chunk.start, chunk.end, chunk.label, "\n".join(lines[chunk.start - 1 : chunk.end]), chunk.score
        )
        cost = count_tokens(snippet.render()) + (0 if count else count_tokens(_header(chunk.path)) + 1)
        if cost > budget - used:
            room = budget - used - (0 if count else count_tokens(_header(chunk.path)) + 1)
            if room < MIN_PARTIAL_TOKENS:
                continue
            cut = _fit_lines(chunk, lines, room)
            if cut is None:
                continue
            snippet = cut
            cost = count_tokens(snippet.render()) + (budget - used - room)
        chosen.append(snippet)
        taken[chunk.path] = count + 1
        used += cost
    # the per-piece sums are an estimate of the whole; make the whole fit for certain
    text, sections = _render(chosen)
    while chosen and count_tokens(text) > budget:
        chosen.pop()
        text, sections = _render(chosen)
    best = {s.path: s.score for s in reversed(chosen)}
    files = [{"path": p, "tokens": count_tokens(t), "score": round(best[p], 3)} for p, t in sections]
    return ContextPack("", budget, files, count_tokens(text), text, chosen)


def build_context(repo: Path | RepoMap, request: str, budget: int) -> ContextPack:
    """The request's context from a checkout (or an already built map), within `budget` tokens."""
    repo_map = repo if isinstance(repo, RepoMap) else map_worktree(repo)
    result = pack(rank(repo_map, request), budget)
    result.request = request
    return result


def pack_whole_files(repo_map: RepoMap, request: str, budget: int) -> ContextPack:
    """The baseline: files ranked by whole-file BM25, packed whole while they fit (a file too big is skipped)."""
    text_of = {e.path: e.text for e in repo_map.files}
    sections: list[tuple[str, str, float]] = []
    used = 0
    for path, score in rank_whole_files(repo_map, request):
        section = f"{_header(path)}```\n{text_of[path]}\n```\n"
        cost = count_tokens(section) + 1
        if used + cost <= budget:
            sections.append((path, section, score))
            used += cost
        if budget - used < MIN_PARTIAL_TOKENS:
            break
    text = "\n".join(s for _, s, _ in sections)
    while sections and count_tokens(text) > budget:
        sections.pop()
        text = "\n".join(s for _, s, _ in sections)
    files = [{"path": p, "tokens": count_tokens(s), "score": round(score, 3)} for p, s, score in sections]
    return ContextPack(request, budget, files, count_tokens(text), text)
