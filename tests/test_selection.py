"""Smart agent selection, the pure parts: the request classifier, the diff classifier, the skip policy
from config, the overrides and their one refusal, and the diff re-check that only ever adds work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autodev.agent.specs import load_agents
from autodev.config.settings import load_settings
from autodev.core.errors import UserError
from autodev.run.graph import FEATURE_PIPELINE
from autodev.run.selection.decide import select_agents
from autodev.run.selection.diff import ChangedFile, classify_diff, files_from_numstat, python_change
from autodev.run.selection.overrides import SelectionOverrides, check_needs
from autodev.run.selection.paths import expand_numstat_path, path_kind, security_words
from autodev.run.selection.policy import DEFAULT_SKIPS, SkipPolicy, recheck
from autodev.run.selection.repo import repo_lookup
from autodev.run.selection.request import PathFacts, classify_request

FEATURE_NAMES = FEATURE_PIPELINE.names


def kind_of(text: str, lookup: Any = None) -> str:
    return classify_request(text, lookup).change_type


# ---------------------------------------------------------------- request classifier
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fix the typo in README.md", "typo"),
        ("Fix spelling mistakes in CONTRIBUTING.md", "typo"),
        ("docs: fix a typo in the changelog", "typo"),
        ("Add Klaviyo to the sponsors in the README", "docs"),
        ("Add a news fragment for the last release", "docs"),
        ("Update docs/installation.md with the new install step", "docs"),
        ("Bump actions/checkout from 3 to 4 in the CI workflow", "config"),
        ("Pin tox to 4.x in pyproject.toml", "deps"),
        ("Bump the minimum version of typing-extensions", "deps"),
        ("Add setuptools-scm to the build system requirements", "deps"),
        ("ci: run the workflow on Python 3.13 too", "config"),
        ("Add dependabot for GitHub Actions", "config"),
    ],
)
def test_fast_path_classes(text: str, expected: str) -> None:
    result = classify_request(text)
    assert result.change_type == expected, result.reasons
    assert result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Add a mul(a, b) function to calc that multiplies two numbers",
        "Add a slugify(text) function to textkit that lowercases the text",
        "Fix the crash when the table is empty",
        "Refactor the renderer into smaller functions",
        "Update README.md and add a --verbose flag",
        "Fix the typo in calc/__init__.py",
        "Fix typo in the docstring of Console.print",
        "Document `attrs.define` in the README",
        "Update ruff and fix the new lint warnings",
        "Make NOTHING falsey",
    ],
)
def test_code_signals_make_a_feature(text: str) -> None:
    assert kind_of(text) == "feature"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Document the login flow in README.md", "login"),
        ("Fix typo in the password reset section of the README", "password"),
        ("Update the docs about API tokens in README.md", "tokens"),
        ("Mention how secrets are stored in CONTRIBUTING.md", "secrets"),
        ("docs: explain file permissions in the README", "permissions"),
        ("Fix typo in README: sanitize user input before use", "sanitize"),
        ("Update the README section on the parser", "parser"),
        ("README: describe the HTTP client settings", "http"),
        ("Document the subprocess timeout in docs/usage.md", "subprocess"),
        ("Add a changelog entry for the SQL fix", "sql"),
        ("Explain the crypto choices in docs/security.md", "crypto"),
    ],
)
def test_security_signals_force_feature(text: str, signal: str) -> None:
    result = classify_request(text)
    assert result.change_type == "feature"
    assert result.reasons[0].startswith("security-sensitive")
    assert signal in result.reasons[0]


@pytest.mark.parametrize(
    "text",
    [
        "Make it better",
        "ouch",
        "Fix typo",  # in code or in docs? unsure
        "Improve the docs",  # documentation files or docstrings?
        "Clarify the wording",
    ],
)
def test_unsure_is_feature(text: str) -> None:
    result = classify_request(text)
    assert result.change_type == "feature"
    assert "unsure" in result.reasons[-1] or "no docs" in result.reasons[-1]


def test_a_long_request_or_an_unexplained_list_item_is_feature() -> None:
    long = "Fix the typo in README.md. " + "This sentence only adds words to the request. " * 8
    assert "too long" in classify_request(long).reasons[-1]
    listed = "Update the changelog\n\n* Add the news fragment\n* Make NOTHING falsey"
    result = classify_request(listed)
    assert result.change_type == "feature"
    assert "Make NOTHING falsey" in result.reasons[-1]


def test_trailers_and_urls_are_not_signals() -> None:
    text = "Update the sponsors in README.md\n\nSee https://example.com/login?token=1\n\nSigned-off-by: A <a@b.c>"
    assert kind_of(text) == "docs"


def test_a_named_path_is_looked_up_in_the_repository(make_repo: Any) -> None:
    repo = make_repo({"README.md": "# x\n", "textkit/strings.py": "X = 1\n", "docs/guide.md": "# guide\n"})
    lookup = repo_lookup(repo)
    # a bare name resolves to the file it names, and takes that file's kind
    readme = classify_request("Fix the typo in README", lookup)
    assert readme.change_type == "typo"
    assert "README.md" in " ".join(readme.reasons) and "exists" in " ".join(readme.reasons)
    strings = classify_request("Fix the spelling in strings.py", lookup)
    assert strings.change_type == "feature"
    assert "textkit/strings.py" in strings.reasons[0]
    # a directory the repository has counts; an unknown slash-word ("and/or") does not
    assert kind_of("Fix typos in docs/", lookup) == "typo"
    assert lookup("docs") == PathFacts(True, "docs", "docs/")
    assert lookup("and/or") == PathFacts(False, "code")
    assert lookup("../etc/passwd") is None
    assert kind_of("Fix typos in the README and/or CONTRIBUTING", lookup) == "typo"
    # a file that does not exist yet keeps the kind of its name
    assert lookup("docs/new.md") == PathFacts(False, "docs")


# ---------------------------------------------------------------- paths and diffs
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("README.md", "docs"),
        ("docs/conf.py", "code"),  # it runs at every docs build (and the truth data counts it)
        (".github/check_version.py", "code"),
        ("noxfile.py", "code"),
        ("docs/_static/logo.svg", "docs"),
        ("changelog.d/123.change.md", "docs"),
        ("LICENSE", "docs"),
        ("CHANGELOG.rst", "docs"),
        (".github/CONTRIBUTING.md", "docs"),
        ("pyproject.toml", "deps"),
        (".github/workflows/ci.yml", "config"),
        ("tox.ini", "config"),
        ("Dockerfile", "config"),
        ("Makefile", "config"),
        ("requirements-dev.txt", "deps"),
        ("requirements/docs.in", "deps"),
        ("package-lock.json", "deps"),
        ("Cargo.toml", "deps"),
        (".pre-commit-config.yaml", "config"),
        (".gitignore", "config"),
        ("uv.lock", "deps"),
        ("tests/test_calc.py", "tests"),
        ("src/pkg/test_util.py", "tests"),
        ("pkg/util_test.py", "tests"),
        ("conftest.py", "tests"),
        ("typing_tests/mypy.py", "tests"),
        ("src/pkg/core.py", "code"),
        ("src/pkg/core.pyi", "code"),
        ("setup.py", "code"),
        ("scripts/release.sh", "code"),
        ("bin/tool", "code"),
    ],
)
def test_path_kinds(path: str, kind: str) -> None:
    assert path_kind(path) == kind


def test_renames_and_security_paths() -> None:
    assert expand_numstat_path("src/{old.py => new.py}") == ["src/old.py", "src/new.py"]
    assert expand_numstat_path("a.md => docs/a.md") == ["a.md", "docs/a.md"]
    assert expand_numstat_path("{.github => docs}/x.svg") == [".github/x.svg", "docs/x.svg"]
    assert security_words("src/app/auth/TokenStore.py") == ["auth", "token"]
    assert security_words("src/app/render.py") == []


def test_diff_classes_from_paths_alone() -> None:
    def diff(*entries: tuple[str, int, int]) -> str:
        return classify_diff(
            files_from_numstat({"path": p, "added": a, "deleted": d} for p, a, d in entries)
        ).change_type

    assert diff(("README.md", 1, 1)) == "typo"
    assert diff(("README.md", 3, 3), ("docs/a.md", 1, 1)) == "docs"  # more than a typo's worth of lines
    assert diff(("README.md", 3, 0)) == "docs"  # added lines: not a replacement
    assert diff(("README.md", 1, 1), ("tox.ini", 1, 1)) == "config"
    assert diff(("README.md", 1, 1), ("src/pkg/core.py", 1, 1)) == "feature"
    assert diff(("tests/test_x.py", 1, 1)) == "feature"  # tests count with code: the gate must run
    assert diff(("config/secrets.yaml", 1, 1)) == "feature"  # a security-sensitive config path
    assert diff() == "docs"  # nothing changed
    result = classify_diff(files_from_numstat([{"path": "src/auth/login.py", "added": 3, "deleted": 0}]))
    assert result.security_paths == ["src/auth/login.py"]
    assert any("security-sensitive" in reason for reason in result.reasons)


BASE = '''"""Module doc."""


def add(a, b):
    """Add two numbers."""
    return a + b  # the sum
'''


def test_docstring_only_python_change_counts_as_docs() -> None:
    new = BASE.replace("Add two numbers.", "Add two numbers, a and b.")
    assert python_change(BASE, new) == "docs"
    result = classify_diff([ChangedFile("calc/__init__.py", 1, 1, BASE, new)])
    assert result.change_type == "typo"  # one line replaced, docs only
    assert "docstring/comment changes only" in " ".join(result.reasons)


def test_comment_only_python_change_counts_as_docs() -> None:
    new = BASE.replace("# the sum", "# the sum of a and b") + "# a trailing comment\n"
    assert python_change(BASE, new) == "docs"
    assert classify_diff([ChangedFile("calc/__init__.py", 2, 1, BASE, new)]).change_type == "docs"


def test_real_python_changes_are_code() -> None:
    changed = BASE.replace("return a + b", "return a - b")
    assert python_change(BASE, changed) is None
    assert classify_diff([ChangedFile("calc/__init__.py", 1, 1, BASE, changed)]).change_type == "feature"
    added_docstring_to_empty = "def f():\n    pass\n"
    assert python_change(added_docstring_to_empty, 'def f():\n    """Now documented."""\n') == "docs"
    assert python_change(BASE, "def broken(:\n") is None  # unparsable: code
    doctest = BASE.replace('"""Add two numbers."""', '"""Add.\n\n    >>> add(1, 2)\n    3\n    """')
    assert python_change(BASE, doctest) == "tests"  # a doctest is a test
    new_file = classify_diff([ChangedFile("calc/new.py", 3, 0, None, "X = 1\n")])
    assert new_file.change_type == "feature"


# ---------------------------------------------------------------- policy from config
def test_default_policy_is_the_issues() -> None:
    policy = SkipPolicy()
    assert set(policy.skips_for("docs")) == {"test-master", "security-auditor", "researcher-web"}
    assert set(policy.skips_for("typo")) == {"researcher-local", "researcher-web", "test-master"}
    assert set(policy.skips_for("config")) == {"researcher-local", "researcher-web", "test-master"}
    assert set(policy.skips_for("deps")) == {"researcher-local", "test-master"}
    assert policy.skips_for("feature") == ()
    assert policy.skip_gate == {"docs", "typo"}


def test_policy_from_config(make_repo: Any) -> None:
    config = '[selection]\nskip_gate = []\n[selection.skips]\ndocs = ["researcher-web"]\nfeature = ["researcher-web"]\n'
    repo = make_repo({"README.md": "# x\n", ".autodev/config.toml": config})
    policy = SkipPolicy.from_config(load_settings(repo).selection)
    assert policy.skips_for("docs") == ("researcher-web",)
    assert policy.skips_for("feature") == ("researcher-web",)
    assert policy.skips_for("typo") == DEFAULT_SKIPS["typo"]  # left out: the default
    assert policy.skip_gate == frozenset()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[selection.skips]\nprose = ["reviewer"]\n', "unknown change type"),
        ('[selection]\nskip_gate = ["everything"]\n', "unknown change type"),
        ("[selection]\nskips_typo = 1\n", "selection"),
        ('[selection.skips]\ndeps = ["security-auditor"]\n', "always runs for packaging"),
        ('[selection]\nskip_gate = ["docs", "deps"]\n', "the test gate always runs for deps"),
    ],
)
def test_bad_selection_config_is_a_usage_error(make_repo: Any, config: str, message: str) -> None:
    repo = make_repo({"README.md": "# x\n", ".autodev/config.toml": config})
    with pytest.raises(UserError, match=message):
        load_settings(repo)


def test_select_agents_applies_the_policy(make_repo: Any) -> None:
    repo = make_repo({"README.md": "# x\n"})
    specs = load_agents(repo)

    def select(text: str, **kw: Any) -> Any:
        return select_agents(text, repo, specs, FEATURE_NAMES, web_search=True, pipeline=FEATURE_PIPELINE, **kw)

    docs = select("Add the new sponsor to README.md")
    assert docs.change_type == "docs"
    assert set(docs.skips) == {"test-master", "security-auditor", "researcher-web"}
    assert all("docs change" in why for why in docs.skips.values())
    assert docs.fixed == frozenset()
    assert select("Add a mul(a, b) function").skips == {}
    custom = SkipPolicy({**DEFAULT_SKIPS, "docs": ("doc-master",)})
    assert set(select("Add the new sponsor to README.md", policy=custom).skips) == {"doc-master"}
    with pytest.raises(UserError, match="unknown agent"):
        select("x", policy=SkipPolicy({**DEFAULT_SKIPS, "docs": ("nobody",)}))
    with pytest.raises(UserError, match="refusing to skip implementer"):
        select("Add the new sponsor to README.md", policy=SkipPolicy({**DEFAULT_SKIPS, "docs": ("implementer",)}))
    # no web search: the web researcher is skipped whatever the class, and no re-check undoes it
    no_web = select_agents("Add a mul(a, b) function", repo, specs, FEATURE_NAMES, web_search=False)
    assert set(no_web.skips) == {"researcher-web"} and no_web.fixed == {"researcher-web"}


# ---------------------------------------------------------------- overrides and the refusal
def test_overrides(make_repo: Any) -> None:
    repo = make_repo({"README.md": "# x\n"})
    specs = load_agents(repo)

    def select(text: str, overrides: SelectionOverrides) -> Any:
        return select_agents(
            text, repo, specs, FEATURE_NAMES, web_search=True, pipeline=FEATURE_PIPELINE, overrides=overrides
        )

    typo = "Fix the typo in README.md"
    assert select(typo, SelectionOverrides(full=True)).skips == {}
    skip = select(typo, SelectionOverrides.from_flags(False, ["reviewer", "doc-master"], []))
    assert skip.skips["reviewer"] == skip.skips["doc-master"] == "--skip on the command line"
    assert {"reviewer", "doc-master"} <= skip.fixed
    assert "researcher-local" in skip.skips  # the typo policy still applies next to --skip
    only = select("Add a mul(a, b) function", SelectionOverrides.from_flags(False, [], ["planner,implementer"]))
    assert only.mode == "only"
    assert set(only.skips) == set(FEATURE_NAMES) - {"planner", "implementer"}
    assert only.fixed == set(only.skips)
    for bad, message in [
        (SelectionOverrides(full=True, skip=("reviewer",)), "--full"),
        (SelectionOverrides(skip=("reviewer",), only=("implementer",)), "either --skip or --only"),
        (SelectionOverrides(skip=("reviwer",)), "no agent named reviwer"),
        (SelectionOverrides(only=("implementer", "reviewer")), None),
    ]:
        if message is None:
            select(typo, bad)
            continue
        with pytest.raises(UserError, match=message):
            select(typo, bad)


def test_refusal_rule_is_about_the_change_author() -> None:
    pipeline = FEATURE_PIPELINE
    # advisory agents may go: their dependents work from the request
    check_needs(pipeline, {"researcher-local": "x", "researcher-web": "x", "planner": "x", "test-master": "x"})
    check_needs(pipeline, {name: "x" for name in ("reviewer", "security-auditor", "doc-master")})
    check_needs(pipeline, {n: "x" for n in FEATURE_NAMES if n != "planner"})  # a plan-only run: nothing needs it
    with pytest.raises(UserError, match=r"refusing to skip implementer.*reviewer"):
        check_needs(pipeline, {"implementer": "--skip"})
    with pytest.raises(UserError, match=r"refusing to skip implementer \(x\): reviewer works on"):
        check_needs(pipeline, {n: "x" for n in FEATURE_NAMES if n != "reviewer"})
    with pytest.raises(UserError, match="nothing would run"):
        check_needs(pipeline, dict.fromkeys(FEATURE_NAMES, "x"))


# ---------------------------------------------------------------- the re-check only adds work
def _diff(*paths: str) -> Any:
    return classify_diff(files_from_numstat({"path": p, "added": 1, "deleted": 1} for p in paths))


VALIDATION = ("reviewer", "security-auditor", "doc-master")


def test_recheck_adds_work_when_a_fast_path_diff_changes_code() -> None:
    skips = {name: "docs change" for name in DEFAULT_SKIPS["docs"]}
    result = recheck(
        before="docs",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("calc.py"),
        skips=skips,
        fixed=(),
        pending=VALIDATION,
    )
    assert result.after == "feature"
    assert set(result.unskip) == {"security-auditor"}
    assert result.run_gate
    assert any("test-master was skipped" in reason and "not re-run" in reason for reason in result.reasons)
    # the build phase's test writer, when it is still pending, comes back (the gate step offers it)
    back = recheck(
        before="docs",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("calc.py"),
        skips=skips,
        fixed=(),
        pending=(*VALIDATION, "test-master"),
    )
    assert set(back.unskip) == {"security-auditor", "test-master"}


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (("pyproject.toml",), "deps"),
        (("requirements-dev.txt", "README.md"), "deps"),
        (("poetry.lock",), "deps"),
        (("setup.py",), "feature"),  # a build script is code (and packaging: `packaging_paths`)
        (("tox.ini", "setup.cfg"), "deps"),
        (("tox.ini",), "config"),
    ],
)
def test_packaging_changes_are_the_deps_class(paths: tuple[str, ...], expected: str) -> None:
    diff = _diff(*paths)
    assert diff.change_type == expected
    assert bool(diff.packaging_paths) == (expected != "config")


def test_a_docs_or_config_request_whose_diff_is_deps_gets_the_audit_and_the_gate() -> None:
    for before in ("docs", "config", "typo"):
        skips = {name: f"{before} change" for name in DEFAULT_SKIPS[before]}
        result = recheck(
            before=before,
            mode="auto",
            policy=SkipPolicy(),
            diff=_diff("requirements.txt"),
            skips=skips,
            fixed=(),
            pending=(*VALIDATION, "test-master"),
        )
        assert result.after == "deps" and result.run_gate
        assert "security-auditor" not in set(skips) - set(result.unskip)
        assert "test-master" not in result.unskip  # deps keeps its own skips: no new behaviour to test


PYPROJECT = '[project]\nname = "x"\ndependencies = ["attrs>=22"]\n\n[tool.ruff]\nline-length = 100\n'


def test_a_pyproject_edit_of_tool_settings_only_is_config() -> None:
    tools_only = PYPROJECT.replace("100", "120")
    pinned = PYPROJECT.replace("attrs>=22", "attrs>=23")
    assert classify_diff([ChangedFile("pyproject.toml", 1, 1, PYPROJECT, tools_only)]).change_type == "config"
    assert classify_diff([ChangedFile("pyproject.toml", 1, 1, PYPROJECT, pinned)]).change_type == "deps"
    assert classify_diff([ChangedFile("pyproject.toml", 1, 1, PYPROJECT, "not = [toml")]).change_type == "deps"
    package = '{"name": "x", "dependencies": {"a": "1"}, "prettier": {"semi": false}}'
    assert classify_diff(
        [ChangedFile("package.json", 1, 1, package, package.replace("false", "true"))]
    ).change_type == ("config")
    assert classify_diff([ChangedFile("package.json", 1, 1, package, package.replace('"1"', '"2"'))]).change_type == (
        "deps"
    )


def test_recheck_confirms_a_fast_path_and_never_removes_work() -> None:
    skips = {name: "docs change" for name in DEFAULT_SKIPS["docs"]}
    same = recheck(
        before="docs",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("README.md"),
        skips=skips,
        fixed=(),
        pending=VALIDATION,
    )
    assert same.after == "typo" and same.unskip == {} and not same.run_gate
    # a feature request whose diff is only docs keeps everything, the gate included
    feature = recheck(
        before="feature",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("README.md"),
        skips={},
        fixed=(),
        pending=VALIDATION,
    )
    assert feature.unskip == {} and feature.run_gate
    # a docs request whose diff touches config: config's policy keeps the security-auditor, and the gate runs
    config = recheck(
        before="docs",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("tox.ini"),
        skips=skips,
        fixed=(),
        pending=VALIDATION,
    )
    assert set(config.unskip) == {"security-auditor"} and config.run_gate
    # a skip the user asked for stays, and says so
    fixed = recheck(
        before="docs",
        mode="auto",
        policy=SkipPolicy(),
        diff=_diff("calc.py"),
        skips={**skips, "reviewer": "--skip on the command line"},
        fixed=("reviewer",),
        pending=VALIDATION,
    )
    assert "reviewer" not in fixed.unskip
    assert any("reviewer stays skipped" in reason for reason in fixed.reasons)
    # --full and --only always run the gate; a skipped implementer leaves nothing to test
    full = recheck(
        before="typo", mode="full", policy=SkipPolicy(), diff=_diff("README.md"), skips={}, fixed=(), pending=VALIDATION
    )
    assert full.run_gate
    no_author = recheck(
        before="feature",
        mode="only",
        policy=SkipPolicy(),
        diff=_diff(),
        skips={"implementer": "x"},
        fixed=("implementer",),
        pending=VALIDATION,
        gate_agent_skipped=True,
    )
    assert not no_author.run_gate


def test_plan_for_the_real_data_request_stays_feature(tmp_path: Path) -> None:
    """The existing end-to-end tests rely on their requests running the full pipeline."""
    assert kind_of("Add a mul(a, b) function to calc that multiplies two numbers") == "feature"
    assert kind_of("multiply numbers") == "feature"


# ---------------------------------------------------------------- general signals (issue 22)
@pytest.mark.parametrize(
    "text",
    ["Fix CI release job", "CI hotfixes", "Fix the broken docs build in tox.ini", "Revert the pin of towncrier"],
)
def test_repairing_the_build_or_ci_is_a_feature(text: str) -> None:
    """What broke a build is as often code or a script as configuration: no fast path."""
    result = classify_request(text)
    assert result.change_type == "feature", result.reasons
    assert "repair words" in result.reasons[-1]


def test_a_packaging_request_in_a_setup_py_repository_is_a_feature() -> None:
    """setup.py is code: where the repository packages with it, a packaging change edits code."""
    from autodev.run.selection.repo import listing_lookup

    request = "Pin towncrier for the docs build"
    assert classify_request(request, listing_lookup(lambda: ["pyproject.toml", "src/x.py"])).change_type == "deps"
    with_setup = classify_request(request, listing_lookup(lambda: ["setup.py", "src/x.py"]))
    assert with_setup.change_type == "feature"
    assert "packages with setup.py" in with_setup.reasons[-1]
    # a setup.py elsewhere (an example project) is not the repository's build script
    nested = listing_lookup(lambda: ["examples/plugin/setup.py", "pyproject.toml"])
    assert classify_request(request, nested).change_type == "deps"


def test_packaging_words_in_a_request_about_a_docs_file_are_docs() -> None:
    """ "how to install from PyPI" in a README request describes the prose, it is not packaging."""
    text = "Add an Installation section to README.md saying how to install notekeeper from PyPI"
    assert classify_request(text).change_type == "docs"
    assert classify_request("Pin sphinx in docs/requirements.txt").change_type == "deps"  # a named deps file
