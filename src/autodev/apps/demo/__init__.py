"""`autodev demo`: the whole pipeline on a bundled example project, with scripted model replies.

Everything but the model is real: the project is copied into a fresh git repository, the agents'
tool calls edit real files in a real worktree, the project's real test suite gates the change, and
state and metrics are written as for any run.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

from autodev.config.settings import DEFAULT_TIER_MODELS, CliOverrides
from autodev.core import gitops
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


def run_demo(reporter: Reporter = silent, parent: Path | None = None, max_parallel: int | None = None) -> RunResult:
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
