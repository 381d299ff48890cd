"""Lexical ranking of a repository's code chunks against a request: deterministic, no model.

- Terms: identifiers are split at `_`, `-`, `.`, `/`, case changes (`RunTests` -> run, tests) and digits,
  lower-cased, lightly stemmed (plurals, -ing, -ed), with a small stopword list.
- Chunks: for Python, each function, method and class header; for other text (and Python module-level
  code), windows of `WINDOW_LINES` lines. A chunk's terms include its file's path terms.
- Score: BM25 over chunks, plus a share of the whole file's BM25 (a file that matches throughout is
  likelier than one matching line), plus strong boosts for files the request names (a path, a file name,
  a module name) and for chunks defining a symbol the request names (`slugify`, `RunTests`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from autodev.agent.context.repomap import FileEntry, RepoMap

WINDOW_LINES = 40
K1, B = 1.2, 0.75
FILE_SHARE = 0.5  # weight of the whole file's BM25 in each of its chunks' scores
PATH_BOOST = 12.0  # the request names this file (path, file name or dotted module)
STEM_BOOST = 4.0  # the request uses the file's stem as a word (`gitops`, `cli`)
SYMBOL_BOOST = 10.0  # the chunk defines a symbol the request names
SYMBOL_FILE_BOOST = 4.0  # ... and every other chunk of that file
TEST_FACTOR = 0.6  # tests and docs, when the request does not ask about them

_STOP_TEXT = """a an the and or but if then else of to in on at by for with from into onto as is are was were be been
    being it its this that these those there here we you i he she they them our your their my me us do does
    did done not no so than too very can could should would will shall may might must just also only
    when where which who whom what why how all any each some such more most other same own new use used
    using via per add adds added make makes made fix fixes fixed update updates updated change changes
    changed support supports allow allows now get set let etc e g ie"""
STOPWORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATHLIKE = re.compile(r"[\w./-]+")
TEST_OR_DOC_WORDS = frozenset({"test", "tests", "testing", "doc", "docs", "readme", "documentation", "pytest"})


def split_identifier(text: str) -> list[str]:
    """`parse_HTTPResponse2-code` -> ["parse", "http", "response", "2", "code"] (not stemmed, no stopwords)."""
    parts: list[str] = []
    for word in _WORD.findall(text):
        parts.extend(piece.lower() for piece in _CAMEL.findall(word))
    return parts


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in split_identifier(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def is_test_path(path: str) -> bool:
    parts = path.lower().split("/")
    name = parts[-1]
    return (
        any(p in {"test", "tests", "testing", "__tests__", "spec", "specs"} for p in parts[:-1])
        or name.startswith("test_")
        or name.rsplit(".", 1)[0].endswith(("_test", ".test", ".spec", "_spec"))
        or name == "conftest.py"
    )


def is_doc_path(path: str) -> bool:
    lower = path.lower()
    return lower.startswith(("docs/", "doc/")) or lower.endswith((".md", ".rst", ".txt", ".adoc"))


@dataclass
class Chunk:
    path: str
    start: int  # 1-based, inclusive
    end: int
    label: str  # symbol qualname, or "" for a window
    terms: Counter[str]
    score: float = 0.0


@dataclass
class Ranking:
    repo_map: RepoMap
    chunks: list[Chunk]  # best first, score > 0
    file_scores: dict[str, float] = field(default_factory=dict)  # best chunk's score per file


def _windows(lines: list[str], spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line windows over the 1-based spans, skipping spans that are blank."""
    out = []
    for first, last in spans:
        start = first
        while start <= last:
            end = min(last, start + WINDOW_LINES - 1)
            if any(line.strip() for line in lines[start - 1 : end]):
                out.append((start, end))
            start = end + 1
    return out


def chunk_file(entry: FileEntry) -> list[tuple[int, int, str]]:
    """(start, end, label) spans covering the file: symbols for Python, windows elsewhere."""
    lines = entry.lines
    if not lines:
        return []
    spans: list[tuple[int, int, str]] = []
    covered = [False] * (len(lines) + 2)
    for symbol in entry.symbols if entry.is_python else []:
        if symbol.depth > 1:
            continue  # inside a nested class: left to the windows
        end = symbol.end
        if symbol.kind == "class":  # the header: up to its first method
            children = [s.start for s in entry.symbols if s.depth == symbol.depth + 1 and symbol.start < s.start <= end]
            end = min(children, default=end + 1) - 1
        for start, stop in _windows(lines, [(symbol.start, end)]):
            spans.append((start, stop, symbol.qualname))
        for n in range(symbol.start, end + 1):
            covered[n] = True
    # whatever no symbol covers (imports, constants, scripts, non-Python files): windows
    gaps: list[tuple[int, int]] = []
    run_start = None
    for n in range(1, len(lines) + 1):
        if not covered[n] and run_start is None:
            run_start = n
        if covered[n] and run_start is not None:
            gaps.append((run_start, n - 1))
            run_start = None
    if run_start is not None:
        gaps.append((run_start, len(lines)))
    spans.extend((s, e, "") for s, e in _windows(lines, gaps))
    return sorted(spans)


class BM25:
    def __init__(self, docs: list[Counter[str]]) -> None:
        self.docs = docs
        self.lengths = [sum(d.values()) for d in docs]
        self.avg = (sum(self.lengths) / len(docs)) if docs else 1.0
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, index: int, query: Counter[str]) -> float:
        doc, length, total = self.docs[index], self.lengths[index], 0.0
        for term, qf in query.items():
            tf = doc.get(term, 0)
            if tf:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (self.avg or 1.0)))
                total += self.idf.get(term, 0.0) * norm * (1 + math.log(qf))
        return total


def _named_files(request: str, repo_map: RepoMap) -> tuple[set[str], set[str]]:
    """Files the request names by path, file name or dotted module (strong), or by stem as a word (weak)."""
    lower = request.lower()
    tokens = {t.strip(".,:;`'\"()[]{}") for t in _PATHLIKE.findall(lower)}
    words = set(split_identifier(request))
    strong, weak = set(), set()
    for entry in repo_map.files:
        path = entry.path.lower()
        name = path.rsplit("/", 1)[-1]
        base = name.rsplit(".", 1)[0]
        module = path.removeprefix("src/").rsplit(".", 1)[0].replace("/", ".")
        if (
            path in tokens
            or any(t.endswith("/" + name) or t == name for t in tokens if "." in t and len(name) > 3)
            or (entry.is_python and "." in module and module in tokens)
            or (entry.is_python and any(t.endswith("." + module.rsplit(".", 1)[-1]) and t in module for t in tokens))
        ):
            strong.add(entry.path)
        elif len(base) >= 3 and base not in STOPWORDS and base not in {"init", "main", "index", "__init__"}:
            pieces = split_identifier(base)
            if pieces and (base in words or "_".join(pieces) in lower or "".join(pieces) in words):
                weak.add(entry.path)
    return strong, weak


def _named_symbols(request: str, repo_map: RepoMap) -> set[str]:
    """Normalised names (lower case, no underscores) of symbols the request names.

    A word counts when it has identifier shape (underscore, inner capital, digits, backticks, a call) or
    when it names a symbol defined in at most two files, so plain English rarely triggers a boost.
    """
    defined: Counter[str] = Counter()
    for entry in repo_map.files:
        for name in {s.name.lower().replace("_", "") for s in entry.symbols}:
            defined[name] += 1
    named = set()
    for match in _IDENT.finditer(request):
        word = match.group(0)
        norm = word.lower().replace("_", "")
        if len(norm) < 3 or norm in STOPWORDS or norm not in defined:
            continue
        shaped = (
            "_" in word
            or any(c.isupper() for c in word[1:])
            or any(c.isdigit() for c in word)
            or request[max(0, match.start() - 1) : match.start()] == "`"
            or request[match.end() : match.end() + 1] == "("
        )
        if shaped or (defined[norm] <= 2 and len(norm) >= 5):
            named.add(norm)
    return named


def rank(repo_map: RepoMap, request: str) -> Ranking:
    query = Counter(terms(request))
    entries = repo_map.files
    chunk_docs: list[Counter[str]] = []
    chunks: list[Chunk] = []
    file_docs: list[Counter[str]] = []
    for entry in entries:
        path_terms = terms(entry.path)
        lines = entry.lines
        file_terms: Counter[str] = Counter(path_terms)
        for start, end, label in chunk_file(entry):
            doc = Counter(terms("\n".join(lines[start - 1 : end])))
            file_terms.update(doc)
            doc.update(path_terms)
            chunks.append(Chunk(entry.path, start, end, label, doc))
            chunk_docs.append(doc)
        file_docs.append(file_terms)
    chunk_index = BM25(chunk_docs)
    file_index = BM25(file_docs)
    file_bm25 = {e.path: file_index.score(i, query) for i, e in enumerate(entries)}
    strong, weak = _named_files(request, repo_map)
    symbols = _named_symbols(request, repo_map)
    symbol_files = {e.path for e in entries if any(s.name.lower().replace("_", "") in symbols for s in e.symbols)}
    wants_tests = bool(set(split_identifier(request)) & TEST_OR_DOC_WORDS)
    for i, chunk in enumerate(chunks):
        score = chunk_index.score(i, query) + FILE_SHARE * file_bm25[chunk.path]
        if chunk.path in strong:
            score += PATH_BOOST
        elif chunk.path in weak:
            score += STEM_BOOST
        if chunk.label and chunk.label.rsplit(".", 1)[-1].lower().replace("_", "") in symbols:
            score += SYMBOL_BOOST
        elif chunk.path in symbol_files:
            score += SYMBOL_FILE_BOOST
        if not wants_tests and (is_test_path(chunk.path) or is_doc_path(chunk.path)):
            score *= TEST_FACTOR
        chunk.score = score
    ranked = sorted((c for c in chunks if c.score > 0), key=lambda c: (-c.score, c.path, c.start))
    best: dict[str, float] = {}
    for chunk in ranked:
        best.setdefault(chunk.path, chunk.score)
    return Ranking(repo_map, ranked, best)


def rank_whole_files(repo_map: RepoMap, request: str) -> list[tuple[str, float]]:
    """The baseline: whole files (text plus path) ranked by plain BM25 on the request."""
    query = Counter(terms(request))
    docs = [Counter(terms(e.path)) + Counter(terms(e.text)) for e in repo_map.files]
    index = BM25(docs)
    scored = [(e.path, index.score(i, query)) for i, e in enumerate(repo_map.files)]
    return sorted((p for p in scored if p[1] > 0), key=lambda p: (-p[1], p[0]))
