"""Which environment runs the project's tests, and why: the project's own, never autodev's.

Chosen once per run, from the user's checkout (where the project's environment lives: `.venv` is
untracked, so it is not in the worktree), in this order:

1. a configured `test_command`: run verbatim (never rewritten), with the environment found below
   activated (its `bin` first on PATH, `VIRTUAL_ENV`);
2. the project's tooling: uv (`uv.lock`), poetry (`poetry.lock` / `[tool.poetry]`), hatch
   (`[tool.hatch]` / `hatch.toml`), pdm (`pdm.lock`) — each with the environment it made (the
   checkout's `.venv`, or where the tool says it keeps it); then a `.venv` or `venv` in the checkout;
3. otherwise the first `python3`/`python` on PATH that is not autodev's own interpreter. When that is a
   version manager's shim (pyenv, asdf: a script that picks an interpreter, then starts it), the tests
   start the interpreter it picks in the checkout, named once by asking it (`sys.executable`): a
   shim costs a shell and the manager's own lookups on every start, and the command then names the
   interpreter whose pytest was checked.

A project that is not Python (no `pyproject.toml`, `setup.py` or `setup.cfg`) is tested with its own
toolchain: `npm test` or `pnpm test` (a `package.json` with a test script), `go test ./...`
(`go.mod`), `cargo test --offline` (`Cargo.toml`; the jail has no network, so crates must already
be in `~/.cargo/registry`).

The tests must import the worktree's code, not the checkout's: an editable install points at the
checkout. So the worktree's `src` (when there is one) goes first on `PYTHONPATH`, and the worktree
itself is the working directory (`python -m` puts it first on `sys.path`); both come before
site-packages, where an editable install's `.pth` or finder lives. In the jail the checkout is
hidden anyway: code that would have been imported from it fails to import instead of passing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TOOL_TIMEOUT_S = 30.0  # asking poetry or hatch where its environment is


@dataclass(frozen=True)
class TestEnvironment:
    """How the project's tests run: the command, what chose it and why, and what the jail must let it read."""

    __test__ = False  # not a pytest test class

    command: tuple[str, ...]
    source: str  # configured | uv | poetry | hatch | pdm | venv | python on PATH
    reason: str
    environment: Path | None = None  # the virtual environment (its bin first on PATH), if any
    readable: tuple[Path, ...] = ()  # bound read-only in the jail: the environment and its base interpreter
    variables: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        where = f" ({self.environment})" if self.environment else ""
        return f"{self.source}{where}: {self.reason}"

    def env_for(self, worktree: Path) -> dict[str, str]:
        """The variables the tests get in `worktree`: the environment activated, the worktree's code first."""
        env = dict(self.variables)
        if self.environment is not None:
            env["VIRTUAL_ENV"] = str(self.environment)
            env["PATH"] = os.pathsep.join([str(self.environment / "bin"), os.environ.get("PATH", os.defpath)])
        if (worktree / "src").is_dir():
            env["PYTHONPATH"] = str(worktree / "src")
        return env


def _pyproject(repo: Path) -> dict[str, object]:
    try:
        data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _tool_table(repo: Path, name: str) -> bool:
    tool = _pyproject(repo).get("tool")
    return isinstance(tool, dict) and name in tool


def _venv_python(venv: Path) -> Path | None:
    python = venv / "bin" / "python"
    return python if python.exists() else None


def _ask(argv: list[str], repo: Path) -> Path | None:
    """A tool's answer to "where is the environment" (poetry, hatch, pdm), or None."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    path = Path(lines[-1].strip()) if done.returncode == 0 and lines else None
    return path if path is not None and path.is_dir() else None


def project_environment(repo: Path) -> tuple[str, Path, str] | None:
    """(tool, virtual environment, reason) for the project in `repo`, or None when it has none."""
    local = next((repo / name for name in (".venv", "venv") if _venv_python(repo / name)), None)
    if (repo / "uv.lock").is_file() and local is not None:  # uv keeps the project's environment in .venv
        return "uv", local, "uv.lock in the checkout"
    if (repo / "poetry.lock").is_file() or _tool_table(repo, "poetry"):
        found = local or _ask(["poetry", "env", "info", "--path"], repo)
        if found is not None:
            return "poetry", found, "poetry.lock or [tool.poetry] in the checkout"
    if (repo / "hatch.toml").is_file() or _tool_table(repo, "hatch"):
        found = local or _ask(["hatch", "env", "find", "default"], repo)
        if found is not None:
            return "hatch", found, "hatch.toml or [tool.hatch] in the checkout"
    if ((repo / "pdm.lock").is_file() or _tool_table(repo, "pdm")) and local is not None:
        return "pdm", local, "pdm.lock or [tool.pdm] in the checkout"
    if local is not None:
        return "venv", local, f"{local.name}/ in the checkout"
    return None


def _is_autodevs(python: str) -> bool:
    """Whether `python` runs autodev's own environment: inside autodev's venv, or, when autodev runs
    without one, the same interpreter (a venv's python resolves to its base, which is not autodev's)."""
    if Path(python).absolute().is_relative_to(Path(sys.prefix).absolute()):
        return True
    in_venv = sys.prefix != sys.base_prefix
    return not in_venv and os.path.realpath(python) == os.path.realpath(sys.executable)


def python_on_path() -> str | None:
    """The first `python3` or `python` on PATH that is not the interpreter running autodev."""
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        for name in ("python3", "python"):
            candidate = Path(entry) / name
            if entry and candidate.is_file() and os.access(candidate, os.X_OK) and not _is_autodevs(str(candidate)):
                return str(candidate)
    return None


def base_interpreter(venv: Path) -> list[Path]:
    """What a virtual environment's python needs besides itself: the installation its `pyvenv.cfg` names."""
    try:
        config = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            home = Path(os.path.realpath(value.strip()))
            return [home.parent if home.name == "bin" else home]
    return []


def has_module(python: Path | str, module: str) -> bool:
    """Whether `module` is importable by `python` (looked up in its site-packages, without starting it
    when the environment is a virtual environment; else asked)."""
    venv = Path(python).parent.parent
    if (venv / "pyvenv.cfg").is_file():
        return any(venv.glob(f"lib/python*/site-packages/{module}")) or any(
            venv.glob(f"lib/python*/site-packages/{module}.py")
        )
    try:
        done = subprocess.run(
            [str(python), "-c", f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"],
            capture_output=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


_PROBE = "import importlib.util, sys; print(sys.executable); sys.exit(importlib.util.find_spec('pytest') is None)"


def probe_interpreter(python: str, cwd: Path) -> tuple[str, bool]:
    """(the interpreter `python` starts in `cwd`, whether it has pytest), from one start of it.

    The same path back for an interpreter; for a shim, the one it chose (a shim honours the
    checkout's `.python-version`, hence `cwd`). When the answer is not a program, `python` itself.
    """
    try:
        done = subprocess.run(
            [python, "-c", _PROBE], cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return python, False
    lines = done.stdout.strip().splitlines()
    started = lines[-1].strip() if lines else ""
    real = started if os.path.isabs(started) and os.path.isfile(started) and os.access(started, os.X_OK) else python
    return real, done.returncode == 0


def _runner(python: str, with_pytest: bool | None = None) -> tuple[str, ...]:
    if has_module(python, "pytest") if with_pytest is None else with_pytest:
        return (python, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    return (python, "-m", "unittest", "discover", "-q")


def has_tests(repo: Path) -> bool:
    if (repo / "tests").is_dir() or (repo / "test").is_dir():
        return True
    return any(repo.glob("test_*.py")) or any(repo.glob("*_test.py"))


NPM_DEFAULT_TEST = 'echo "Error: no test specified" && exit 1'


def other_language(repo: Path) -> TestEnvironment | None:
    """The test command of a project that is not Python, from its toolchain's own files."""
    if any((repo / name).exists() for name in ("pyproject.toml", "setup.py", "setup.cfg")):
        return None
    package = repo / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(package.read_text(encoding="utf-8")).get("scripts") or {}
        except (OSError, ValueError, AttributeError):
            scripts = {}
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if isinstance(test, str) and test.strip() and test.strip() != NPM_DEFAULT_TEST:
            tool = "pnpm" if (repo / "pnpm-lock.yaml").is_file() else "npm"
            return TestEnvironment((tool, "test"), tool, f"package.json's test script: {test.strip()}")
    if (repo / "go.mod").is_file():
        return TestEnvironment(("go", "test", "./..."), "go", "go.mod in the checkout")
    if (repo / "Cargo.toml").is_file():
        return TestEnvironment(("cargo", "test", "--offline"), "cargo", "Cargo.toml in the checkout")
    return None


def detect(repo: Path, configured: list[str] | None) -> TestEnvironment | None:
    """The environment and command for the project in `repo` (the user's checkout), or None: no tests."""
    if not configured and (found_other := other_language(repo)) is not None:
        return found_other
    found = project_environment(repo)
    readable: tuple[Path, ...] = ()
    if found is not None:
        readable = (found[1], *base_interpreter(found[1]))
    if configured:
        if found is None:
            return TestEnvironment(tuple(configured), "configured", "test_command in the configuration, as written")
        tool, venv, why = found
        reason = f"test_command as written, with the {tool} environment active ({why})"
        return TestEnvironment(tuple(configured), "configured", reason, venv, readable)
    if not has_tests(repo):
        return None
    if found is not None:
        tool, venv, why = found
        interpreter = str(_venv_python(venv) or venv / "bin" / "python")
        return TestEnvironment(_runner(interpreter), tool, why, venv, readable)
    on_path = python_on_path()
    if on_path is None:
        return None
    real, with_pytest = probe_interpreter(on_path, repo)
    shim = f", which starts {real}" if real != on_path else ""
    reason = f"no project environment found; {on_path} from PATH{shim}"
    return TestEnvironment(_runner(real, with_pytest), "python on PATH", reason)
