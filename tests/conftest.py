"""Shared fixtures: every test runs with a clean environment and can make throwaway git repositories.

Every test is marked `unit` or `e2e` here (never by hand), and the longest ones also `slow`:
`python -m pytest -m unit` is the quick loop, `-m "not slow"` skips the minutes-long runs.
"""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from scripts import trust_if_valid

from autodev.sandbox.jail import bubblewrap_problem

ISOLATED_ENV = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AUTODEV_PROVIDER",
    "AUTODEV_BASE_URL", "AUTODEV_MAX_PARALLEL", "AUTODEV_SCRIPT", "AUTODEV_MODEL_FAST", "AUTODEV_MODEL_BALANCED",
    "AUTODEV_MODEL_DEEP", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS",
    "AUTODEV_OTEL",
)  # fmt: skip

# Modules whose tests start programs, servers, git or the CLI in the test body itself.
E2E_MODULES = frozenset(
    {
        "test_anthropic_adapter",
        "test_bad_input",
        "test_bash",
        "test_batch",
        "test_bench_cost",
        "test_bench_pipeline",
        "test_clean",
        "test_cli",
        "test_eval",
        "test_eval_polyglot",
        "test_eval_swebench",
        "test_fakes",
        "test_faults",
        "test_leaks",
        "test_mcp",
        "test_openai_adapter",
        "test_otel",
        "test_pipeline_e2e",
        "test_process",
        "test_providers_e2e",
        "test_resilience",
        "test_resume",
        "test_selection_e2e",
        "test_server_lifetime",
        "test_skills",
        "test_temporal",
        "test_temporal_units",
        "test_testreport",
    }
)
# Fixtures that make a git repository or start a server: a test that uses one (even through another
# fixture) is end-to-end wherever it lives.
E2E_FIXTURES = frozenset(
    {
        "make_repo",
        "calc_repo",
        "demo",
        "demo_repo",
        "typo_repo",
        "seeded",
        "server",
        "anthropic_server",
        "openai_server",
        "fresh_openai",
        "local_server",
        "fake_anthropic",
        "fake_openai",
        "local_openai",
    }
)
# The longest tests (`--durations=40`, 5 s and more on a loaded 2-core machine): `-m "not slow"` skips them.
SLOW_MODULES = frozenset({"test_temporal", "test_bench_pipeline"})
SLOW_TESTS = frozenset(
    {
        "test_leaks.py::test_fifty_demo_runs_leak_nothing",
        "test_resume.py::test_sigkill_at_random_points_then_resume_ends_like_an_uninterrupted_run",
        "test_resume.py::test_two_runs_at_once_on_one_repository_do_not_interfere",
        "test_testreport.py::test_a_hanging_test_is_killed_with_its_children",
        "test_faults.py::test_feature_runs_survive_faults_injected_at_30_percent",
        "test_eval.py::test_validate_builtin_oracle_passes_and_null_fails",
        "test_eval_swebench.py::test_validate_swebench_oracle_resolves_null_does_not",
        "test_cli.py::test_demo_json_runs_the_whole_pipeline",
    }
)

# The files whose tests take longest in all, longest first. The suite runs on two pytest-xdist workers,
# a whole file to one worker, files handed out in collection order (pyproject's addopts): these go
# first, so a long file never starts last while the other worker has nothing left to do.
LONGEST_FILES = (
    "test_leaks", "test_temporal", "test_bench_pipeline", "test_resume", "test_mcp", "test_faults", "test_eval",
    "test_bench_cost", "test_cli", "test_eval_swebench",
)  # fmt: skip


# Calls in a test's own body that run git, a program, a whole run or the CLI.
E2E_CALLS = ("git(", "main([", "subprocess.", "Popen(", "run_feature(", "resume_run(", "CliRunner", "run_tests(")


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the tests even when the run was started in the background.

    A shell starts `cmd &` (and nohup, and many CI runners) with SIGINT ignored, and Python then
    leaves it ignored: the tests that press Ctrl-C (in process, or in an `autodev` they start, which
    inherits the ignoring) would see a run that never stops.
    """
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None) or _ignored_by_the_kernel(signal.SIGINT):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _sandbox_for_this_machine()


def _sandbox_for_this_machine() -> None:
    """Runs jail executed code in bubblewrap, which `.ci/run` installs (and requires, with
    AUTODEV_TEST_REQUIRE_JAIL=1). On a developer's machine without it, the suite still runs, with the
    sandbox off; the jail's own tests skip there and say why."""
    problem = bubblewrap_problem()
    if problem is None:
        return
    if os.environ.get("AUTODEV_TEST_REQUIRE_JAIL") == "1":
        raise pytest.UsageError(f"AUTODEV_TEST_REQUIRE_JAIL=1 but {problem}")
    os.environ["AUTODEV_SANDBOX"] = "off"


def require_jail() -> None:
    """Skip a jail test where bubblewrap can't run (never under AUTODEV_TEST_REQUIRE_JAIL=1)."""
    problem = bubblewrap_problem()
    if problem is not None:
        pytest.skip(problem)


def _ignored_by_the_kernel(signum: int) -> bool:
    """What Python's cached handler doesn't show: the disposition in /proc (Linux), else assume not."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def is_e2e(item: pytest.Item) -> bool:
    if item.path.stem in E2E_MODULES or E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    try:
        body = inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        body = ""
    return any(call in body for call in E2E_CALLS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Exactly one of `unit`/`e2e` on every test, and `slow` on the longest; the longest files first."""
    first = {name: rank for rank, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: first.get(item.path.stem, len(first)))  # stable: each file's order is kept
    for item in items:
        item.add_marker(pytest.mark.e2e if is_e2e(item) else pytest.mark.unit)
        short_id = item.nodeid.rsplit("/", 1)[-1].split("[", 1)[0]
        if item.path.stem in SLOW_MODULES or short_id in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys, no user-level agent files, no provider picked up from the developer's shell."""
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """`make_repo({"path": "content", ...})` -> a git repository with those files in one commit."""

    def make(files: dict[str, str] | None = None, name: str = "repo", trusted: bool = True) -> Path:
        """`trusted`: approve its widening settings (`test_command`, agent files ...), as the test wrote them."""
        repo = tmp_path / name
        repo.mkdir()
        git(repo, "init", "--quiet", "--initial-branch=main")
        for rel, content in (files or {"README.md": "# project\n"}).items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", "initial")
        if trusted:
            trust_if_valid(repo)
        return repo

    return make


@pytest.fixture(autouse=True, scope="session")
def no_user_config(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> None:
    """Module- and session-scoped fixtures run before `isolated_env`: they must not read ~/.config/autodev either."""
    patch = pytest.MonkeyPatch()
    request.addfinalizer(patch.undo)
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-session")))
