"""`autodev demo`: the whole pipeline on a bundled example project, with scripted model replies.

Everything but the model is real: the project is copied into a fresh git repository, the agents'
tool calls edit real files in a real worktree, the project's real test suite gates the change, and
state and metrics are written as for any run.

The repository is kept after the demo, for `git show` on its result, in one place per user:
`$TMPDIR/autodev-demo-<uid>/`. The next `autodev demo` removes it (and any other the folder holds
whose demo is over) before it makes its own, so demos never pile up in the temporary directory; a
demo still running keeps its folder (each holds a lock for as long as its process lives).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from autodev.config.settings import DEFAULT_TIER_MODELS, CliOverrides
from autodev.core import gitops
from autodev.core.locks import FileLock
from autodev.engines.local.launch import RunResult, run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.events import Reporter, silent
from autodev.sandbox.jail import bubblewrap_problem

DEMO_REQUEST = (
    "Add a slugify(text) function to textkit that lowercases the text, drops punctuation and joins words with hyphens"
)
DEMO_TIER_MODELS = tuple(f"{tier}={model}" for tier, model in DEFAULT_TIER_MODELS["anthropic"].items())
DEMO_IDENTITY = [
    "-c",
    "user.name=autodev demo",
    "-c",
    "user.email=demo@autodev.invalid",
    "-c",
    "commit.gpgsign=false",
]


def demo_dir() -> Path:
    return Path(str(resources.files("autodev.apps.demo")))


def make_demo_repo(parent: Path | None = None) -> Path:
    """Copy the example project into a new temporary git repository with one commit.

    It has no autodev settings of its own: the gate finds its tests and an interpreter the way it does
    for any project (`autodev.run.gate.environment`), and nothing needs `autodev trust`.
    """
    target = Path(tempfile.mkdtemp(prefix="autodev-demo-", dir=parent)) / "textkit"
    shutil.copytree(demo_dir() / "project", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    gitops.git(["init", "--quiet", "--initial-branch=main"], target)
    gitops.git(["add", "-A"], target)
    gitops.git([*DEMO_IDENTITY, "commit", "--quiet", "-m", "textkit: initial version"], target)
    return target


def demo_home() -> Path:
    """Where `autodev demo` keeps its repository: one folder per user in the temporary directory."""
    return Path(tempfile.gettempdir()) / f"autodev-demo-{os.getuid()}"


@contextlib.contextmanager
def demo_place(home: Path | None = None) -> Iterator[Path | None]:
    """A folder of `home` (default `demo_home()`) for one demo, locked while the demo runs; the folders
    of demos that are over are removed first. None when `home` is not a private directory of this user's
    (another user made it first): the demo then gets a temporary directory of its own, as before."""
    home = home or demo_home()
    with contextlib.suppress(FileExistsError):
        home.mkdir(mode=0o700)
    info = home.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        yield None
        return
    with FileLock(home / "lock"):  # one demo at a time sorts the folder out
        for lock_file in home.glob("*.lock"):
            old = FileLock(lock_file)
            if old.acquire():  # its demo is over
                shutil.rmtree(lock_file.with_suffix(""), ignore_errors=True)
                lock_file.unlink(missing_ok=True)
                old.release()
        place = Path(tempfile.mkdtemp(prefix="demo-", dir=home))
        mine = FileLock(place.with_name(place.name + ".lock"))
        mine.acquire()
    try:
        yield place
    finally:
        mine.release()


def run_demo(reporter: Reporter = silent, parent: Path | None = None, max_parallel: int | None = None) -> RunResult:
    """The demo run. `parent`: where to make its repository (default: `demo_place()`'s folder)."""
    if parent is not None:
        return _run_demo(reporter, parent, max_parallel)
    with demo_place() as place:
        return _run_demo(reporter, place, max_parallel)


def _run_demo(reporter: Reporter, parent: Path | None, max_parallel: int | None) -> RunResult:
    repo = make_demo_repo(parent)
    script = demo_dir() / "script.yaml"
    provider = ScriptedProvider.from_file(script)
    # Serve the tiers under Claude model ids so the scripted usage is priced at real list prices;
    # the script is named in the run's options so `autodev resume` can replay the rest of it.
    # The demo's project and replies are autodev's own: where bubblewrap can't run (macOS, a container
    # without namespaces) the demo still runs, unconfined, and the run says so.
    sandbox = "off" if bubblewrap_problem() is not None else None
    cli = CliOverrides(
        provider="scripted", max_parallel=max_parallel, models=DEMO_TIER_MODELS, script=str(script), sandbox=sandbox
    )
    return run_feature(DEMO_REQUEST, repo, cli, reporter, provider=provider)
