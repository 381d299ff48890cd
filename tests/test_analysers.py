"""Tier-0 analysers, each on a seeded problem in a throwaway git repository (base commit + a change)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import MakeRepo, git

from autodev.agent.analysers import (
    AnalyserResult,
    AnalysisInput,
    Finding,
    analysis_input,
    load,
    render,
    run_analysers,
    save,
)
from autodev.agent.analysers import base as analyser_base
from autodev.agent.analysers.api import doc_mentions, public_api, public_names
from autodev.agent.analysers.base import added_lines, unquote_c
from autodev.agent.analysers.deps import dependencies, parse_go_mod, parse_package_json, parse_requirements_txt
from autodev.agent.analysers.review import diff_stat, ruff
from autodev.agent.analysers.review import tests as analyse_tests
from autodev.agent.analysers.security import bandit, secrets
from autodev.agent.specs import load_agents

PASSWORD = "s3cr3t-Passw0rd-2024"

BASE_FILES = {
    "README.md": "# Demo\n\nCall `slugify(text)` to make a slug. `obsolete()` is deprecated.\n",
    "docs/guide.md": "# Guide\n\nThe `Greeter` class greets.\n",
    "pkg/__init__.py": "",
    "pkg/core.py": (
        "import json\n\n\n"
        "def slugify(text: str) -> str:\n    return json.dumps(text).lower()\n\n\n"
        "def obsolete() -> None:\n    pass\n\n\n"
        "class Greeter:\n    def greet(self, name: str) -> str:\n        return name\n\n"
        "    def _private(self) -> None:\n        pass\n"
    ),
    "pkg/_internal.py": "def helper():\n    return 1\n",
    "tests/test_core.py": "def test_ok():\n    assert True\n",
    "pyproject.toml": '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["requests>=2.31"]\n',
    "requirements.txt": "click==8.1.7\n",
}

CHANGED_CORE = (
    "import json\nimport os\nimport subprocess\n\n"
    f'DB_PASSWORD = "{PASSWORD}"\n\n\n'
    'def slugify(text: str, sep: str = "-") -> str:\n    return json.dumps(text).lower()\n\n\n'
    "def export_slugs(items: list[str]) -> list[str]:\n    return [slugify(i) for i in items]\n\n\n"
    "def run(cmd: str) -> None:\n    subprocess.run(cmd, shell=True, check=True)\n\n\n"
    "class Greeter:\n    def greet(self, name: str) -> str:\n        return name\n\n"
    "    def _private(self, extra: int) -> None:\n        pass\n"
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> AnalysisInput:
    """A repository with a base commit and an uncommitted change carrying one of each seeded problem."""
    repo = tmp_path_factory.mktemp("seeded") / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    for rel, content in BASE_FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(content, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "pkg" / "core.py").write_text(CHANGED_CORE, encoding="utf-8")
    (repo / "pkg" / "_internal.py").write_text("def helper(x):\n    return x\n", encoding="utf-8")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["requests>=2.32", "leftpad>=1.0"]\n',
        encoding="utf-8",
    )
    (repo / "requirements.txt").unlink()
    (repo / "notes with space.txt").write_text("untracked, new\n", encoding="utf-8")  # untracked: still a change
    summary = (
        "Tests FAILED (exit 1, 0.4s): python -m pytest -q\n..F\nFAILED tests/test_core.py::test_ok - assert 1 == 2\n"
    )
    return analysis_input(repo, base, tests=summary)


def by_rule(result: AnalyserResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


# ---------------------------------------------------------------------------------------- input
def test_analysis_input_lists_every_change_with_status_and_counts(seeded: AnalysisInput) -> None:
    changed = {f.path: f for f in seeded.changed}
    assert changed["pkg/core.py"].status == "M"
    assert changed["requirements.txt"].status == "D"
    assert changed["notes with space.txt"].status == "A"  # untracked files are staged like diff_against does
    assert changed["notes with space.txt"].added == 1
    assert f'+DB_PASSWORD = "{PASSWORD}"' in seeded.diff
    assert added_lines(seeded.diff)["notes with space.txt"] == [(1, "untracked, new")]


def test_rename_and_quoted_paths(make_repo: MakeRepo) -> None:
    repo = make_repo({"old_name.py": "x = 1\n" * 20})
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "mv", "old_name.py", "new name.py")
    inp = analysis_input(repo, base)
    assert [(f.path, f.status, f.old_path) for f in inp.changed] == [("new name.py", "R", "old_name.py")]
    assert unquote_c(r"caf\303\251 \"x\".py") == 'café "x".py'


# ---------------------------------------------------------------------------------------- reviewer
def test_diff_lists_files_and_totals(seeded: AnalysisInput) -> None:
    res = diff_stat(seeded, 10)
    assert res.status == "findings"
    assert {f.path: f.rule for f in res.findings}["requirements.txt"] == "deleted"
    assert "5 file(s) changed" in res.note


def test_ruff_finds_the_unused_import(seeded: AnalysisInput) -> None:
    res = ruff(seeded, 30)
    assert res.status == "findings", res.note
    unused = by_rule(res, "F401")
    assert [(f.path, f.line) for f in unused] == [("pkg/core.py", 2)]
    assert "os" in unused[0].message
    assert not (seeded.worktree / ".ruff_cache").exists()


def test_ruff_marks_findings_on_lines_the_change_did_not_touch(make_repo: MakeRepo) -> None:
    repo = make_repo({"mod.py": "import os\n\nX = 1\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "mod.py").write_text("import os\n\nX = 1\nY = undefined_name\n", encoding="utf-8")
    res = ruff(analysis_input(repo, base), 30)
    first, last = res.findings[0], res.findings[-1]
    assert first.rule == "F821" and first.severity == "high"  # the new line comes first
    assert last.rule == "F401" and "line not changed by this diff" in last.message


def test_tests_wraps_the_summary(seeded: AnalysisInput) -> None:
    res = analyse_tests(seeded, 10)
    assert res.status == "findings"
    assert res.note.startswith("Tests FAILED")
    assert res.findings == [Finding("tests/test_core.py", None, "test-failed", "test_ok: assert 1 == 2", "high")]
    passed = analyse_tests(replace(seeded, tests="Tests PASSED (exit 0, 0.1s): pytest\n3 passed"), 10)
    assert passed.status == "ok"
    not_run = analyse_tests(replace(seeded, tests=None), 10)
    assert not_run.status == "missing" and "NOT 'tests pass'" in not_run.note


# ---------------------------------------------------------------------------------------- security
def test_bandit_finds_the_password_and_shell_true(seeded: AnalysisInput) -> None:
    res = bandit(seeded, 60)
    assert res.status == "findings", res.note
    rules = {f.rule: f for f in res.findings}
    assert rules["B105"].line == 5 and rules["B105"].path == "pkg/core.py"
    assert rules["B602"].line == 17 and rules["B602"].severity == "high"
    assert all(PASSWORD not in f.message for f in res.findings)


def test_secret_scan_finds_the_password_without_repeating_it(seeded: AnalysisInput) -> None:
    res = secrets(seeded, 10)
    assert [(f.path, f.line, f.rule) for f in res.findings] == [("pkg/core.py", 5, "secret_assignment")]
    assert PASSWORD not in json.dumps([f.message for f in res.findings]) + res.note


def test_secret_scan_maps_multi_line_secrets_to_their_first_line(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.txt": "hello\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n" * 3
        + "-----END RSA PRIVATE KEY-----\n"
    )
    (repo / "a.txt").write_text("hello\nfine\n" + key, encoding="utf-8")
    res = secrets(analysis_input(repo, base), 10)
    assert [(f.line, f.rule) for f in res.findings] == [(3, "private_key")]


def test_dependencies_flags_added_changed_and_removed(seeded: AnalysisInput) -> None:
    res = dependencies(seeded, 10)
    assert res.status == "findings"
    found = {(f.path, f.rule): f for f in res.findings}
    added = found["pyproject.toml", "dependency-added"]
    assert "leftpad>=1.0" in added.message and added.line == 4 and added.severity == "medium"
    assert "requests>=2.31" in found["pyproject.toml", "dependency-changed"].message
    assert "click==8.1.7" in found["requirements.txt", "dependency-removed"].message


def test_dependency_parsers_and_direct_references(make_repo: MakeRepo) -> None:
    repo = make_repo({"package.json": '{"dependencies": {"left-pad": "^1.0.0"}}\n', "go.mod": "module x\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "package.json").write_text('{"dependencies": {"left-pad": "^1.3.0", "evil": "git+https://x/y"}}')
    (repo / "requirements-dev.txt").write_text("pytest>=8  # tests\nmylib @ git+https://example.com/mylib\n")
    (repo / "Cargo.toml").write_text("[dependencies\nbroken")  # does not parse: listed by lines
    res = dependencies(analysis_input(repo, base), 10)
    messages = {(f.path, f.rule, f.severity) for f in res.findings}
    assert ("package.json", "dependency-changed", "low") in messages
    assert ("package.json", "dependency-added", "high") in messages  # from a URL
    assert ("requirements-dev.txt", "dependency-added", "high") in messages
    assert ("requirements-dev.txt", "dependency-added", "medium") in messages
    assert ("Cargo.toml", "line-added", "low") in messages and "Cargo.toml did not parse" in res.note
    assert parse_requirements_txt("a==1 \\\n  --hash=sha256:x\n-r base.txt\n") == {
        "requirements:a": "a==1    --hash=sha256:x",
        "options:-r base.txt": "-r base.txt",
    }
    assert parse_go_mod("require (\n  golang.org/x/net v0.1.0 // indirect\n)\nreplace a => ../a\n") == {
        "require:golang.org/x/net": "golang.org/x/net v0.1.0",
        "replace:a": "a => ../a",
    }
    assert parse_package_json('{"devDependencies": {"jest": "29"}}') == {"devDependencies:jest": "jest 29"}


def test_dependencies_ok_when_no_manifest_changed(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.py").write_text("x = 2\n")
    assert dependencies(analysis_input(repo, base), 10).status == "ok"


# ---------------------------------------------------------------------------------------- doc-master
def test_public_api_sees_added_changed_and_removed_names(seeded: AnalysisInput) -> None:
    res = public_api(seeded, 10)
    changes = {(f.rule, f.message.split("`")[1]) for f in res.findings}
    assert changes == {
        ("signature-changed", "slugify"),
        ("added", "export_slugs"),
        ("added", "run"),
        ("removed", "obsolete"),
    }  # _private and pkg/_internal.py are not public API; tests are not API
    slug = next(f for f in res.findings if "`slugify`" in f.message)
    assert "sep: str='-'" in slug.message and "(was: def slugify(text: str) -> str)" in slug.message


def test_doc_mentions_finds_the_undocumented_function(seeded: AnalysisInput) -> None:
    res = doc_mentions(seeded, 10)
    by_name = {f.message.split("`")[1]: f for f in res.findings}
    assert by_name["export_slugs"].rule == "undocumented"
    assert "mentioned nowhere" in by_name["export_slugs"].message
    assert (by_name["export_slugs"].path, by_name["export_slugs"].line) == ("pkg/core.py", 12)
    assert (by_name["slugify"].rule, by_name["slugify"].path, by_name["slugify"].line) == ("mentioned", "README.md", 3)
    assert (by_name["obsolete"].rule, by_name["obsolete"].path) == ("stale-mention", "README.md")


def test_public_names_respects_all_and_signatures() -> None:
    source = "__all__ = ['b']\ndef a(): pass\nasync def b(x, *, y=1) -> int: pass\nclass _C:\n    def m(self): pass\n"
    names = public_names(source)
    assert list(names) == ["b"]
    assert names["b"].signature == "async def b(x, *, y=1) -> int"
    init = public_names("class K(Base):\n    def __init__(self, v: int) -> None: ...\n")
    assert init["K"].signature == "class K(Base)" and init["K.__init__"].signature.startswith("def __init__(self, v")


# ---------------------------------------------------------------------------------------- containment
def test_scanners_never_import_the_worktree_and_symlinks_out_are_not_read(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"README.md": "# x\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    marker = tmp_path / "imported"
    shadow = f"from pathlib import Path\nPath({str(marker)!r}).write_text('pwned')\n"
    for name in ("ruff.py", "bandit.py"):  # would shadow the scanners if the worktree were on sys.path
        (repo / name).write_text(shadow, encoding="utf-8")
    outside = tmp_path / "outside.md"
    outside.write_text("secret_helper is documented outside\n", encoding="utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "leak.md").symlink_to(outside)
    (repo / "api.py").write_text("def secret_helper(): pass\n", encoding="utf-8")
    (repo / "outside.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "elsewhere.py").write_text("def not_ours(): pass\n", encoding="utf-8")
    inp = analysis_input(repo, base)
    assert ruff(inp, 30).status in ("ok", "findings") and bandit(inp, 60).status in ("ok", "findings")
    assert not marker.exists()
    mentions = doc_mentions(inp, 10)
    assert [(f.rule, f.path) for f in mentions.findings] == [("undocumented", "api.py")]
    assert "not_ours" not in json.dumps([f.message for f in public_api(inp, 10).findings])


# ---------------------------------------------------------------------------------------- missing tools
def test_a_missing_scanner_is_missing_not_clean(seeded: AnalysisInput, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyser_base, "module_available", lambda module: False)
    for res in (ruff(seeded, 10), bandit(seeded, 10)):
        assert res.status == "missing" and res.findings == []
        assert "pip install" in res.note and "NOT 'no findings'" in res.note


def test_a_bogus_interpreter_is_reported_missing(seeded: AnalysisInput, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyser_base, "PYTHON", str(seeded.worktree / "no-such-python"))
    res = bandit(seeded, 10)
    assert res.status == "missing" and "could not start" in res.note
    rendered = render([res])
    assert "## bandit: MISSING" in rendered and "not that it found nothing" in rendered


# ---------------------------------------------------------------------------------------- runner
def test_run_analysers_follows_the_table_and_saves(seeded: AnalysisInput, tmp_path: Path) -> None:
    agents = load_agents(None)  # which analysers an agent gets is its file's `facts:`
    assert agents["security-auditor"].facts == ("bandit", "secrets", "dependencies")
    assert agents["doc-master"].facts and not agents["implementer"].facts
    results = run_analysers(agents["security-auditor"].facts, seeded)
    assert [r.name for r in results] == ["bandit", "secrets", "dependencies"]
    path = tmp_path / "run" / "analysers" / "security-auditor.json"
    save(results, path)
    assert load(path) == results
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["schema"] == 1 and PASSWORD not in text
    assert [p.name for p in path.parent.iterdir()] == ["security-auditor.json"]  # no temp file left behind
    assert PASSWORD not in render(results)


def test_run_analysers_reports_a_crash_and_a_hang(seeded: AnalysisInput, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
        raise RuntimeError(f"boom password = '{PASSWORD}'")

    release = threading.Event()

    def hang(inp: AnalysisInput, timeout_s: float) -> AnalyserResult:
        release.wait(120)  # far past the timeout: only a run that waits for it takes that long
        return AnalyserResult("diff", "ok")

    from autodev.agent.analysers import registry

    monkeypatch.setattr(registry, "GRACE_S", 0.2)
    monkeypatch.setitem(registry.ANALYSERS, "diff", hang)
    monkeypatch.setitem(registry.ANALYSERS, "tests", crash)
    started = time.monotonic()
    results = run_analysers(["diff", "tests"], seeded, timeout_s=0.3)
    release.set()
    assert time.monotonic() - started < 60
    assert [(r.name, r.status) for r in results] == [("diff", "error"), ("tests", "error")]
    assert "timed out" in results[0].note
    assert "RuntimeError: boom" in results[1].note and PASSWORD not in results[1].note


def test_render_caps_findings_and_size() -> None:
    many = AnalyserResult("ruff", "findings", [Finding("a.py", i, "E501", "line too long", "low") for i in range(100)])
    text = render([many, AnalyserResult("secrets", "ok", [], "scanned")])
    assert text.startswith("# Facts from analysers")
    assert "## ruff: 100 finding(s)" in text
    assert text.count("- `a.py:") == 40 and "and 60 more finding(s), not shown" in text
    assert "## secrets: ok, nothing found" in text

    long = AnalyserResult("bandit", "findings", [Finding("b.py", i, "B1", "x" * 5000, "low") for i in range(100)])
    missing = AnalyserResult("ruff", "missing", [], "ruff is not installed; NOT 'no findings'")
    text = render([long, missing], max_chars=4000)
    assert len(text) < 4500
    assert "[...]" in text and "more finding(s), not shown" in text  # long messages are cut, then the list
    assert "## ruff: MISSING" in text  # a noisy analyser can't push another one out
    assert render([]) == ""
