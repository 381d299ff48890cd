"""What an eval is run with: the options every (task, trial) shares, and the callbacks it takes.

Its own module because the eval, one trial and `validate` all take it, and the manifest that keeps a
resumed eval from mixing configurations is computed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autodev.apps.eval.tasks import Task
from autodev.config.settings import CliOverrides
from autodev.models import ModelProvider
from autodev.run.selection.overrides import SelectionOverrides

ProviderFactory = Callable[[Task], ModelProvider]
OnResult = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class EvalOptions:
    trials: int = 1
    tries: int = 1
    jobs: int = 1
    cli: CliOverrides = field(default_factory=CliOverrides)
    selection: SelectionOverrides | None = None
    user_config: Mapping[str, Any] | None = None  # --config: merged into every task's autodev config
    keep: bool = False  # keep each task's temporary repository (its path is in the result)
    workdir: Path | None = None  # where the temporary repositories go (default: the system's temp dir)

    def manifest(self) -> dict[str, Any]:
        """What makes two result sets comparable: a resumed eval must not mix configurations."""
        return {
            "tries": self.tries,
            "cli": {"provider": self.cli.provider, "models": list(self.cli.models), "script": self.cli.script},
            "selection": asdict(self.selection) if self.selection else None,
            "config": dict(self.user_config) if self.user_config else None,
        }
