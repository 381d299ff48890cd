"""Budgeted retrieval: identifier splitting, ranking, packing within the budget, `autodev context` and
`autodev bench context` on a small repository built here (the user's checkout stays untouched)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import git

from autodev.agent.context.counting import count_tokens
from autodev.agent.context.ranking import split_identifier, terms
from autodev.agent.context.repomap import map_worktree, python_symbols
from autodev.agent.context.retrieval import build_context
from autodev.apps.cli.main import main

FILES = {
    "src/shop/text.py": (
        "import re\n\n\ndef slugify(title: str) -> str:\n"
        '    """Lower-case words joined by hyphens."""\n'
        '    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")\n\n\n'
        "def shout(word: str) -> str:\n    return word.upper() + '!'\n"
    ),
    "src/shop/cart.py": (
        "class Cart:\n    def __init__(self) -> None:\n        self.items: list[tuple[str, float]] = []\n\n"
        "    def add_item(self, name: str, price: float) -> None:\n        self.items.append((name, price))\n\n"
        "    def total(self) -> float:\n        return sum(price for _, price in self.items)\n"
    ),
    "src/shop/payments.py": "".join(
        f"def charge_{i}(card: str, amount: float) -> bool:\n    return amount > {i}\n\n\n" for i in range(60)
    ),
    "tests/test_cart.py": "from shop.cart import Cart\n\n\ndef test_total() -> None:\n    assert Cart().total() == 0\n",
    "README.md": "# shop\nA tiny shop: carts, payments and text helpers.\n",
}


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parse_http_response", ["parse", "http", "response"]),
        ("HTTPResponseParser", ["http", "response", "parser"]),
        ("runTests", ["run", "tests"]),
        ("kebab-case-name", ["kebab", "case", "name"]),
        ("utf8Decoder2", ["utf", "8", "decoder", "2"]),
        ("src/autodev/gitops.py", ["src", "autodev", "gitops", "py"]),
    ],
)
def test_split_identifier(text: str, expected: list[str]) -> None:
    assert split_identifier(text) == expected


def test_terms_drop_stopwords_and_stem() -> None:
    assert terms("Add retries to the RunTests tool") == ["retry", "run", "test", "tool"]


def test_python_symbols_with_signatures_and_syntax_errors() -> None:
    symbols = python_symbols(FILES["src/shop/cart.py"])
    assert [s.qualname for s in symbols] == ["Cart", "Cart.__init__", "Cart.add_item", "Cart.total"]
    assert symbols[2].signature == "def add_item(self, name: str, price: float) -> None"
    broken = python_symbols("def ok(a):\n    return a\n\ndef broken(:\n    pass\n")
    assert [s.name for s in broken] == ["ok", "broken"]


def test_repo_map_respects_git(make_repo: Any) -> None:
    repo = make_repo({**FILES, ".gitignore": "ignored.py\n"})
    write(repo, {"ignored.py": "x = 1\n", "new.py": "def fresh() -> None: ...\n", ".autodev/runs/x.json": "{}"})
    (repo / "blob.bin").write_bytes(b"\0\1\2" * 10)
    paths = {e.path for e in map_worktree(repo).files}
    assert "new.py" in paths and "src/shop/cart.py" in paths
    assert not paths & {"ignored.py", "blob.bin", ".autodev/runs/x.json"}


def test_named_function_ranks_its_file_first(make_repo: Any) -> None:
    repo = make_repo(FILES)
    pack = build_context(repo, "Make `slugify` keep unicode letters", 4000)
    assert pack.files[0]["path"] == "src/shop/text.py"
    assert "def slugify" in pack.text and "## src/shop/text.py" in pack.text
    camel = build_context(repo, "The AddItem method should reject negative prices", 4000)
    assert camel.files[0]["path"] == "src/shop/cart.py"


def test_path_named_in_request_is_chosen(make_repo: Any) -> None:
    repo = make_repo(FILES)
    for request in ("Tidy up src/shop/payments.py", "Tidy up payments.py", "Tidy up the shop.payments module"):
        pack = build_context(repo, request, 600)
        assert pack.files[0]["path"] == "src/shop/payments.py", request


@pytest.mark.parametrize("budget", [40, 120, 300, 1000, 5000])
def test_budget_never_exceeded(make_repo: Any, budget: int) -> None:
    repo = make_repo(FILES)
    pack = build_context(repo, "charge the card amount in the cart total, slugify titles", budget)
    assert pack.total_tokens == count_tokens(pack.text) <= budget
    assert all(f["tokens"] <= budget for f in pack.files)


def test_small_budgets_choose_fewer_or_partial_snippets(make_repo: Any) -> None:
    repo = make_repo(FILES)
    request = "charge the card amount"
    small, large = build_context(repo, request, 150), build_context(repo, request, 5000)
    assert 0 < len(small.snippets) < len(large.snippets)
    assert small.total_tokens < large.total_tokens
    cut = build_context(repo, "Document everything in src/shop/payments.py", 200)
    assert all(s.end - s.start < 100 for s in cut.snippets)
    assert "lines " in cut.text


def test_context_cli_json_shape(make_repo: Any, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(FILES)
    data = run_json(capsys, ["context", "fix slugify", "--budget", "500", "--repo", str(repo), "--json"])
    assert set(data) == {"files", "total_tokens", "snippets"}  # the snippets: what the agents receive
    assert {s["path"] for s in data["snippets"]} == {f["path"] for f in data["files"]}
    paths_only = ["context", "fix slugify", "--budget", "500", "--repo", str(repo), "--json", "--paths-only"]
    assert run_json(capsys, paths_only) == {"files": data["files"], "total_tokens": data["total_tokens"]}
    assert data["files"] and all(set(f) == {"path", "tokens", "score"} for f in data["files"])
    assert data["files"][0]["path"] == "src/shop/text.py"
    assert 0 < data["total_tokens"] <= 500
    assert main(["context", "fix slugify", "--budget", "500", "--repo", str(repo)]) == 0
    assert "src/shop/text.py" in capsys.readouterr().out


def snapshot(repo: Path) -> dict[str, Any]:
    files = {str(p.relative_to(repo)): p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    return {
        "files": files,
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
        "head": git(repo, "rev-parse", "HEAD"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
    }


def test_bench_context(make_repo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(FILES)
    whisper = "\n\ndef whisper(word: str) -> str:\n    return word.lower()\n"
    clear = "\n    def clear(self) -> None:\n        self.items = []\n"
    history = [
        ("src/shop/text.py", FILES["src/shop/text.py"] + whisper, "Add whisper next to shout in the text helpers"),
        ("src/shop/cart.py", FILES["src/shop/cart.py"] + clear, "Cart: clear all items"),
        ("README.md", FILES["README.md"] + "More words.\n", "Docs only"),
    ]
    shas = []
    for rel, content, message in history:
        write(repo, {rel: content})
        git(repo, "commit", "--quiet", "-am", message)
        shas.append((git(repo, "rev-parse", "HEAD").strip(), message))
    write(repo, {"scratch.txt": "uncommitted\n", "src/shop/cart.py": "# local edit\n"})
    before = snapshot(repo)
    commits = tmp_path / "commits.jsonl"
    records = [{"sha": sha, "message": message} for sha, message in shas] + [{"sha": "0" * 40, "message": "gone"}]
    commits.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    predictions = tmp_path / "predictions.jsonl"
    argv = ["bench", "context", "--repo", str(repo), "--commits", str(commits), "--predictions", str(predictions)]
    data = run_json(capsys, [*argv, "--budget", "300", "--budget", "2000", "--json"])
    assert data["measured"] == 2 and data["skipped_missing"] == 1 and data["skipped_no_source_change"] == 1
    assert [row["budget"] for row in data["budgets"]] == [300, 2000]
    for row in data["budgets"]:
        assert 0 <= row["recall"] <= 1 and 0 <= row["baseline_recall"] <= 1
        assert row["mean_tokens"] <= row["budget"] and row["baseline_mean_tokens"] <= row["budget"]
    assert data["budgets"][-1]["recall"] == 1.0
    lines = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4 and all(set(line) == {"sha", "budget", "files", "tokens"} for line in lines)
    assert lines[-1]["sha"] == shas[1][0] and lines[-1]["files"][0] == "src/shop/cart.py"
    assert main([*argv]) == 0
    table = capsys.readouterr().out
    assert "baseline" in table and "8,000" in table
    assert snapshot(repo) == before
