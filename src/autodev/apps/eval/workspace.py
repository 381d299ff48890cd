"""A task's repository: a fresh temporary git repository holding only what the agents may see.

The pipeline then runs in it exactly as for a user (worktree, branch, test gate, commit). The
hidden tests and the reference solution are never copied here; grading reads them from the suite
into a separate copy (`autodev.apps.eval.grading`).

Settings reach the run through `.autodev/config.toml` in the repository's main checkout, written
after the first commit and left uncommitted: the run's worktree is made from HEAD, so the agents never
see the eval's settings. The file merges, lowest first: the task's timeout as the test gate's
(`test_timeout_s`), the project's own autodev config, and the user's `--config` file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from autodev.apps.eval.tasks import Task
from autodev.config.trust import trust_own_fixture
from autodev.core import gitops
from autodev.core.errors import UserError

IDENTITY = ["-c", "user.name=autodev eval", "-c", "user.email=eval@autodev.invalid", "-c", "commit.gpgsign=false"]
GIT_TIMEOUT_S = 120


def copy_files(files: Mapping[str, Path], dest: Path) -> None:
    for rel, source in files.items():
        target = dest / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)
        shutil.copymode(source, target)


def make_task_repo(task: Task, dest: Path, user_config: Mapping[str, Any] | None = None) -> str:
    """Create the task's repository at `dest` (one commit on `main`); return that commit."""
    dest.mkdir(parents=True)
    copy_files(task.start, dest)
    gitops.git(["init", "--quiet", "--initial-branch=main"], dest)
    gitops.git(["add", "-A"], dest)
    gitops.git([*IDENTITY, "commit", "--quiet", "--no-verify", "-m", f"{task.name}: starting project"], dest)
    config = merged_config(task, dest, user_config)
    path = dest / ".autodev" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_toml(config), encoding="utf-8")
    trust_own_fixture(dest)  # the suite's settings (and the user's --config): chosen by the user running the eval
    return gitops.head_commit(dest)


def advance(repo: Path, commit: str) -> None:
    """Move the main checkout to `commit` (a run's result), so the next pass starts from it."""
    gitops.git(["merge", "--ff-only", "--quiet", commit], repo)


def diff_bytes(repo: Path, base: str, head: str) -> bytes:
    """The change from `base` to `head` as a binary-safe patch (bytes: a file may not be UTF-8)."""
    if base == head:
        return b""
    try:
        result = subprocess.run(
            gitops.git_argv(["diff", *gitops.NO_PROGRAMS, "--binary", "--no-color", base, head], repo),
            cwd=repo,
            env=gitops.git_env(),
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise gitops.GitError(f"git diff timed out after {GIT_TIMEOUT_S}s") from None
    if result.returncode != 0:
        raise gitops.GitError(f"git diff failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


# ------------------------------------------------------------------------ settings
def load_user_config(path: Path) -> dict[str, Any]:
    """`--config FILE`: an autodev config (the same keys as `.autodev/config.toml`) for every task."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read --config {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"--config {path}: not valid TOML: {exc}") from exc
    if isinstance(data.get("script"), str):  # relative to the config file, not to each task's repository
        data["script"] = str((path.parent / data["script"]).resolve())
    return data


def _project_config(repo: Path) -> dict[str, Any]:
    own = repo / ".autodev" / "config.toml"
    try:
        if own.is_file():
            return tomllib.loads(own.read_text(encoding="utf-8"))
        pyproject = repo / "pyproject.toml"
        if pyproject.is_file():
            section = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("autodev")
            return dict(section) if isinstance(section, dict) else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{repo.name}: the project's autodev config is not valid TOML: {exc}") from exc
    return {}


def _merge(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merged_config(task: Task, repo: Path, user_config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = _merge({"test_timeout_s": task.timeout_s}, _project_config(repo))
    return _merge(config, user_config or {})


# ------------------------------------------------------------------------ TOML out
def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise UserError(f"cannot write {type(value).__name__} values into a task's config")


def dump_toml(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """TOML for autodev's config shapes: scalars, lists, and nested tables (the stdlib only reads TOML)."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    text = ""
    if prefix:
        text += "[" + ".".join(_key(part) for part in prefix) + "]\n"
    text += "".join(line + "\n" for line in lines)
    for key, value in data.items():
        if isinstance(value, Mapping):
            text += ("\n" if text else "") + dump_toml(value, (*prefix, key))
    return text
