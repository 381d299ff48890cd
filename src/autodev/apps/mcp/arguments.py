"""The arguments an MCP client sends, checked before anything runs: a bad one is a tool error, never a crash.

A client is a model as often as a person, so every argument is distrusted: a run id must be one path
component, a path must stay inside the repository, a repository must be a git repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autodev.config.settings import CliOverrides
from autodev.core import gitops
from autodev.core.errors import UserError
from autodev.run.layout import check_run_id, find_run
from autodev.run.selection.overrides import SelectionOverrides


class RunOptions(BaseModel):
    """The overrides `autodev run` takes on its command line, by the same names; any other is refused."""

    model_config = ConfigDict(extra="forbid")

    provider: str | None = Field(default=None, description="Model provider, e.g. anthropic, openai, scripted.")
    script: str | None = Field(default=None, description="Reply script for the scripted provider (a file path).")
    model: list[str] = Field(default_factory=list, description="Serve a tier with a model id: TIER=ID, e.g. deep=...")
    max_parallel: int | None = Field(default=None, ge=1, description="Agents running at once.")
    sandbox: Literal["auto", "bubblewrap", "off"] | None = Field(default=None, description="The jail for commands.")
    max_cost: float | None = Field(default=None, gt=0, description="Stop the run (resumably) past this many USD.")
    full: bool = Field(default=False, description="Skip no agent for the change type: the full pipeline.")
    skip: list[str] = Field(default_factory=list, description="Agents to skip.")
    only: list[str] = Field(default_factory=list, description="Run only these agents.")

    def script_path(self) -> str | None:
        """The script as an absolute path: the run's process does not share the server's working directory."""
        return str(Path(self.script).expanduser().resolve()) if self.script else None

    def cli_overrides(self) -> CliOverrides:
        return CliOverrides(
            provider=self.provider,
            models=tuple(self.model),
            max_parallel=self.max_parallel,
            script=self.script_path(),
            sandbox=self.sandbox,
            max_cost=self.max_cost,
        )

    def selection(self) -> SelectionOverrides:
        return SelectionOverrides.from_flags(self.full, self.skip, self.only)

    def argv(self) -> list[str]:
        """The same choices as `autodev run` flags, for the run's own process."""
        args: list[str] = []
        if self.provider:
            args += ["--provider", self.provider]
        script = self.script_path()
        if script:
            args += ["--script", script]
        for model in self.model:
            args += ["--model", model]
        if self.max_parallel is not None:
            args += ["--max-parallel", str(self.max_parallel)]
        if self.sandbox:
            args += ["--sandbox", self.sandbox]
        if self.max_cost is not None:
            args += ["--max-cost", repr(self.max_cost)]
        if self.full:
            args.append("--full")
        for name in self.skip:
            args += ["--skip", name]
        for name in self.only:
            args += ["--only", name]
        return args


def repository(repo: str | None, default: Path) -> Path:
    """The git repository's root: `repo` (relative to the server's directory) or the server's default."""
    return gitops.find_repo(Path(repo).expanduser() if repo else default)


def run_directory(root: Path, run_id: str) -> Path:
    """The directory of run `run_id` (a unique prefix will do), after checking the id is one path component."""
    return find_run(root, check_run_id(run_id))


def inside(root: Path, path: str) -> str:
    """`path` as a path relative to `root`, refusing anything that leads outside the repository."""
    if not path.strip():
        raise UserError("the path is empty", hint="give a file or directory of the repository, or leave it out")
    given = Path(path)
    target = (given if given.is_absolute() else root / given).resolve()
    try:
        relative = target.relative_to(root.resolve())
    except ValueError:
        raise UserError(f"{path} is outside the repository {root}", hint="give a path inside the repository") from None
    return relative.as_posix()
