"""`--full`, `--skip AGENT` and `--only AGENT,...`, and the one skip that is refused.

The rule for "an agent whose output a running agent needs". The scheduler lets an agent start when
its dependencies finished *or were skipped*, so a dependency edge alone does not mean "needs":
skipping the researchers, the planner or the test-master only leaves the next agent fewer handoffs,
and it works from the request instead. What cannot be replaced is the change itself. The agents that
write it are the pipeline's gate agent and its remediation target (the implementer); every agent
after one of them in the DAG (reviewer, security-auditor, doc-master) reviews, audits or documents
that change, and the test gate tests it. So: skipping a change author is refused while any agent that
depends on it, directly or through others, still runs. `--only reviewer` is refused for that reason;
`--only implementer` and `--skip reviewer` are fine. A selection with nothing left to run is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from autodev.core.errors import UserError
from autodev.run.graph import Pipeline


@dataclass(frozen=True)
class SelectionOverrides:
    full: bool = False
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        return "full" if self.full else "only" if self.only else "auto"

    @classmethod
    def from_flags(cls, full: bool, skip: Iterable[str], only: Iterable[str]) -> SelectionOverrides:
        """`--only a,b --only c` -> ("a", "b", "c"); the same for `--skip`."""
        return cls(full, _split(skip), _split(only))

    def check(self, names: Iterable[str]) -> None:
        known = list(names)
        if self.full and (self.skip or self.only):
            raise UserError("--full runs every agent: it cannot be combined with --skip or --only")
        if self.skip and self.only:
            raise UserError("use either --skip or --only, not both", hint="--only lists every agent that runs")
        unknown = [name for name in (*self.skip, *self.only) if name not in known]
        if unknown:
            flag = "--skip" if self.skip else "--only"
            raise UserError(
                f"{flag}: no agent named {', '.join(unknown)} in this pipeline", hint=f"agents: {', '.join(known)}"
            )


def _split(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def change_authors(pipeline: Pipeline) -> list[str]:
    roles = dict.fromkeys((pipeline.gate_after, pipeline.remediation_target))
    return [name for name in roles if name is not None and name in pipeline.names]


def check_needs(pipeline: Pipeline, skips: Mapping[str, str]) -> None:
    """Raise a `UserError` (exit 2, nothing written) for a skip that leaves a running agent without the
    change it works on, or for a selection where nothing runs. See the module docstring."""
    running = [name for name in pipeline.names if name not in skips]
    if not running:
        raise UserError("nothing would run: every agent is skipped", hint="drop a --skip, or widen --only")
    for author in change_authors(pipeline):
        if author not in skips:
            continue
        users = [name for name in running if author in pipeline.ancestors(name)]
        if users:
            raise UserError(
                f"refusing to skip {author} ({skips[author]}): {', '.join(users)} "
                f"{'works' if len(users) == 1 else 'work'} on the change {author} writes",
                hint=f"let {author} run (add it to --only), or skip {', '.join(users)} as well",
            )
