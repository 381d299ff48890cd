"""Task suites: what a task is, and the three places tasks come from.

A task is a starting project, a request, hidden tests and (for `eval validate`) a reference solution.
The split matters because the agents must never see the hidden tests or the reference: only the
starting project reaches their repository; the rest is read when grading.

- **Native** (`task.toml` beside `repo/`, `tests/`, `solution/`): `repo/` is the starting project;
  `tests/` and `solution/` are overlays on the project root (a file at `tests/test_x.py` is copied to
  `test_x.py` in the project, one at `tests/pkg/test_y.py` to `pkg/test_y.py`).
- **Exercism** (a local clone of the Python track or of the polyglot benchmark): each exercise's
  `.docs/` gives the request and `.meta/config.json` names the solution, test and example files. The
  workspace gets everything except `.meta/`, `.docs/`, `.approaches/`, `.articles/`, the tests and
  the reference, because some exercises need helper files that the config does not list.
- **Polyglot** (Aider's benchmark: `<language>/exercises/practice/<exercise>/`): Exercism exercises of
  several languages, each tested with its language's toolchain (`autodev.apps.eval.polyglot`, which
  builds on this module; `catalog.load_any_suite` picks between the two).
- **Built-in** (`builtin`, `builtin-smoke`): native tasks shipped in this package.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autodev.core.errors import UserError
from autodev.run.gate.results import detect_runner

CATEGORIES = ("feature", "bugfix", "refactor", "docs", "typo", "config", "exercise")
FAST_PATH_CATEGORIES = frozenset({"docs", "typo", "config"})
DEFAULT_TEST_COMMAND = "python -m unittest"
DEFAULT_TIMEOUT_S = 60.0
BUILTIN_NAMES = ("builtin", "builtin-smoke")
EXERCISM_HIDDEN_DIRS = (".meta", ".docs", ".approaches", ".articles")
JUNK = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".DS_Store"})
EXERCISM_ROOTS = ("exercises/practice", "python/exercises/practice")
EXERCISM_DOCS = ("introduction.md", "instructions.md", "instructions.append.md")


@dataclass(frozen=True)
class Task:
    """One task, resolved: every path exists and every relative path stays inside the project."""

    name: str
    format: Literal["native", "exercism", "polyglot", "swebench"]
    source: Path
    request: str
    start: dict[str, Path]  # project path -> file: what the agents' repository starts with
    hidden: dict[str, Path]  # project path -> file: the hidden tests and their helpers
    test_files: tuple[str, ...]  # project paths of the tests to run, by name
    solution: dict[str, Path]  # project path -> reference file (empty: none)
    test_command: tuple[str, ...]  # the runner; the test files are appended
    timeout_s: float = DEFAULT_TIMEOUT_S
    category: str = "feature"
    append_test_files: bool = True  # the runner takes the test files as arguments (cargo and cmake do not)
    unskip: tuple[tuple[str, str], ...] = ()  # (regex, replacement) run over the hidden tests when grading
    language: str = "python"
    links: tuple[tuple[str, Path], ...] = ()  # (project path, directory) symlinked in for grading, read-only

    def solution_texts(self) -> dict[str, str]:
        return {rel: path.read_text(encoding="utf-8") for rel, path in self.solution.items()}


@dataclass(frozen=True)
class Suite:
    name: str
    root: Path
    tasks: tuple[Task, ...]
    smoke: tuple[str, ...] = field(default=())
    skipped: tuple[tuple[str, str], ...] = ()  # (language, why): a polyglot language with no toolchain here


class TaskFile(BaseModel):
    """What `task.toml` may say. Unknown keys are errors: a typo must not silently change a task."""

    model_config = ConfigDict(extra="forbid")
    request: str = Field(min_length=1)
    test_command: str | list[str] = DEFAULT_TEST_COMMAND
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    category: str = "feature"
    test_files: list[str] | None = None

    @field_validator("request")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the request is blank")
        return value.strip()

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; use one of {', '.join(CATEGORIES)}")
        return value


def builtin_root() -> Path:
    return Path(str(resources.files("autodev.apps.eval") / "suites" / "builtin"))


# ------------------------------------------------------------------------ helpers
def _files(root: Path, skip: Iterable[str] = ()) -> dict[str, Path]:
    """Every regular file under `root` by its posix path relative to `root`, without caches and `skip`."""
    skipped = set(skip)
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in JUNK for part in rel.parts) or path.suffix == ".pyc":
            continue
        posix = rel.as_posix()
        if any(posix == s or posix.startswith(s.rstrip("/") + "/") for s in skipped):
            continue
        if path.is_symlink():
            raise UserError(f"{path}: symlinks are not allowed in a task", hint="replace it with the file it points to")
        if path.is_file():
            found[posix] = path
    return found


def _safe_relative(value: str, where: str) -> str:
    posix = PurePosixPath(value.replace("\\", "/"))
    if not value or posix.is_absolute() or ".." in posix.parts or value[1:2] == ":":
        raise UserError(f"{where}: {value!r} must be a path relative to the project root")
    return posix.as_posix()


def _is_test_file(rel: str) -> bool:
    name = PurePosixPath(rel).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _command(value: str | Sequence[str], where: Path) -> tuple[str, ...]:
    try:
        argv = shlex.split(value) if isinstance(value, str) else list(value)
    except ValueError as exc:  # an unclosed quote
        raise UserError(
            f"{where}: test_command: {exc}", hint='close every quote, or write a list: ["pytest", "-q"]'
        ) from None
    if not argv:
        raise UserError(f"{where}: test_command is empty")
    if detect_runner(argv) == "unknown":
        raise UserError(
            f"{where}: test_command {' '.join(argv)!r} is not a pytest or unittest command",
            hint="grading reads the runner's own report: use `python -m unittest` or `python -m pytest -q`",
        )
    return tuple(argv)


# ------------------------------------------------------------------------ native
def load_native(directory: Path) -> Task:
    toml_path = directory / "task.toml"
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{toml_path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise UserError(f"cannot read {toml_path}: {exc.strerror}") from exc
    try:
        spec = TaskFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{toml_path}: invalid task: {problems}") from exc
    repo_dir, tests_dir, solution_dir = directory / "repo", directory / "tests", directory / "solution"
    if not repo_dir.is_dir():
        raise UserError(f"{directory}: a task needs a repo/ directory with the starting project")
    if not tests_dir.is_dir():
        raise UserError(f"{directory}: a task needs a tests/ directory with the hidden tests")
    start = _files(repo_dir)
    if not start:
        raise UserError(f"{repo_dir}: the starting project is empty", hint="a git repository needs a first commit")
    hidden = _files(tests_dir)
    if spec.test_files is None:
        test_files = tuple(rel for rel in hidden if _is_test_file(rel))
    else:
        test_files = tuple(_safe_relative(rel, f"{toml_path}: test_files") for rel in spec.test_files)
        missing = [rel for rel in test_files if rel not in hidden]
        if missing:
            raise UserError(f"{toml_path}: test_files not found under tests/: {', '.join(missing)}")
    if not test_files:
        raise UserError(f"{tests_dir}: no hidden test files (test_*.py or *_test.py)")
    solution = _files(solution_dir) if solution_dir.is_dir() else {}
    return Task(
        name=directory.name,
        format="native",
        source=directory,
        request=spec.request,
        start=start,
        hidden=hidden,
        test_files=test_files,
        solution=solution,
        test_command=_command(spec.test_command, toml_path),
        timeout_s=spec.timeout_s,
        category=spec.category,
    )


# ------------------------------------------------------------------------ exercism
def _config_list(config: dict[str, Any], key: str, where: Path) -> list[str]:
    files = config.get("files")
    value = files.get(key) if isinstance(files, dict) else None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UserError(f"{where}: files.{key} must be a list of paths")
    return [_safe_relative(item, f"{where}: files.{key}") for item in value]


def exercism_request(directory: Path, solution_files: Sequence[str]) -> str:
    """The exercise's own words, with one line that says where the answer goes (the tests import it)."""
    docs = directory / ".docs"
    parts = [(docs / name).read_text(encoding="utf-8").strip() for name in EXERCISM_DOCS if (docs / name).is_file()]
    if not parts:
        raise UserError(f"{docs}: no instructions (.docs/instructions.md)")
    where = ", ".join(solution_files)
    lead = (
        f"Solve this exercise by editing {where}. Keep the names of the existing functions and classes: "
        "the exercise's tests call them. Use the standard library only."
    )
    return lead + "\n\n" + "\n\n".join(parts)


def load_exercism(directory: Path) -> Task:
    config_path = directory / ".meta" / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{config_path}: cannot read the exercise config: {exc}") from exc
    if not isinstance(config, dict):
        raise UserError(f"{config_path}: the exercise config is not a JSON object")
    solution_files = _config_list(config, "solution", config_path)
    test_files = _config_list(config, "test", config_path)
    examples = _config_list(config, "example", config_path)
    if not test_files:
        raise UserError(f"{config_path}: files.test is empty")
    for rel in (*test_files, *examples):
        if not (directory / rel).is_file():
            raise UserError(f"{config_path}: {rel} does not exist")
    start = _files(directory, (*EXERCISM_HIDDEN_DIRS, *test_files, *examples))
    hidden = {rel: directory / rel for rel in test_files}
    # The reference goes where the solution goes: pairs in order, as the track's tooling does.
    solution = {sol: directory / ex for sol, ex in zip(solution_files, examples, strict=False)}
    return Task(
        name=directory.name,
        format="exercism",
        source=directory,
        request=exercism_request(directory, solution_files),
        start=start,
        hidden=hidden,
        test_files=tuple(test_files),
        solution=solution,
        test_command=tuple(shlex.split(DEFAULT_TEST_COMMAND)),
        category="exercise",
    )


# ------------------------------------------------------------------------ suites
def _task_kind(directory: Path) -> str | None:
    if (directory / "task.toml").is_file():
        return "native"
    if (directory / ".meta" / "config.json").is_file():
        return "exercism"
    return None


def load_task(directory: Path) -> Task:
    return load_native(directory) if _task_kind(directory) == "native" else load_exercism(directory)


def _task_dirs(root: Path) -> Iterator[Path]:
    if _task_kind(root):
        yield root
        return
    for base in (root, *(root / sub for sub in EXERCISM_ROOTS)):
        if not base.is_dir():
            continue
        found = [child for child in sorted(base.iterdir()) if child.is_dir() and _task_kind(child)]
        if found:
            yield from found
            return


def load_suite(spec: str) -> Suite:
    """`builtin`, `builtin-smoke`, or a path: a task, a directory of tasks, or an Exercism track clone.

    A name wins over a directory of the same name in the current directory; write `./builtin` for that.
    """
    smoke_only = spec == "builtin-smoke"
    if spec in BUILTIN_NAMES:
        root = builtin_root()
    else:
        root = Path(spec).expanduser()
        if not root.exists():
            raise UserError(f"suite {spec!r} does not exist", hint="give a suite directory, builtin or builtin-smoke")
        if not root.is_dir():
            raise UserError(f"suite {spec!r} is not a directory")
    meta = _suite_meta(root)
    tasks = tuple(load_task(directory) for directory in _task_dirs(root))
    if not tasks:
        raise UserError(
            f"no tasks in {root}",
            hint="a task is a directory with task.toml, or an Exercism exercise (.meta/config.json); "
            "an Exercism clone has them under exercises/practice/",
        )
    names = [task.name for task in tasks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UserError(f"{root}: task names appear twice: {', '.join(duplicates)}")
    smoke = tuple(meta.get("smoke", ()))
    if smoke_only:
        unknown = [name for name in smoke if name not in names]
        if unknown or not smoke:
            raise UserError(f"{root}/suite.toml: the smoke set names unknown tasks: {', '.join(unknown)}")
        tasks = tuple(task for task in tasks if task.name in smoke)
    name = spec if spec in BUILTIN_NAMES else str(meta.get("name") or root.resolve().name)
    return Suite(name, root, tasks, smoke)


def _suite_meta(root: Path) -> dict[str, Any]:
    path = root / "suite.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc
    smoke = data.get("smoke", [])
    if not isinstance(smoke, list) or not all(isinstance(item, str) for item in smoke):
        raise UserError(f"{path}: smoke must be a list of task names")
    return data


def select_tasks(suite: Suite, patterns: Sequence[str]) -> tuple[Task, ...]:
    """The tasks whose names match any of the globs (`--tasks 'bug*'`, repeatable or comma-separated)."""
    globs = [part.strip() for value in patterns for part in value.split(",") if part.strip()]
    if not globs:
        return suite.tasks
    chosen = tuple(task for task in suite.tasks if any(fnmatch.fnmatchcase(task.name, g) for g in globs))
    if not chosen:
        shown = ", ".join(task.name for task in suite.tasks[:12]) + (" ..." if len(suite.tasks) > 12 else "")
        raise UserError(f"no task in {suite.name} matches {', '.join(globs)}", hint=f"tasks: {shown}")
    return chosen
