"""The `autodev` command: the click group, every command registered on it, and errors as exit codes.

Each command lives in the module of its kind (`preview`, `runs`, `clean`, `batch`, `report`, `eval`,
`bench`, `temporal`, `trust`, `mcp`) and only parses, calls one function and prints. `main(argv) -> int` is tested
in-process: a usage error is exit 2, an `AutodevError` its own exit code, Ctrl-C (or SIGTERM, or SIGHUP:
`stopping`) 130.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.markup import escape as esc

from autodev import __version__
from autodev.apps.cli.batch import batch, status
from autodev.apps.cli.bench import bench
from autodev.apps.cli.clean import clean
from autodev.apps.cli.common import err
from autodev.apps.cli.config import config_group
from autodev.apps.cli.doctor import doctor
from autodev.apps.cli.eval import eval_group
from autodev.apps.cli.init import init
from autodev.apps.cli.mcp import mcp_server
from autodev.apps.cli.preview import agents, context_cmd, plan
from autodev.apps.cli.report import report
from autodev.apps.cli.runs import approve, demo, issue, resume, run
from autodev.apps.cli.stopping import stopped_by_signals
from autodev.apps.cli.temporal import worker
from autodev.apps.cli.trust import trust
from autodev.apps.cli.undo import undo
from autodev.core.errors import AutodevError
from autodev.core.redact import redact


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodev")
def cli() -> None:
    """Carry a feature request through a pipeline of specialised agents to a tested change on a branch."""


cli.add_command(agents)
cli.add_command(plan)
cli.add_command(run)
cli.add_command(resume)
cli.add_command(approve)
cli.add_command(demo)
cli.add_command(issue)
cli.add_command(clean)
cli.add_command(context_cmd)
cli.add_command(report)
cli.add_command(batch)
cli.add_command(status)
cli.add_command(eval_group)
cli.add_command(bench)
cli.add_command(worker)
cli.add_command(config_group)
cli.add_command(trust)
cli.add_command(init)
cli.add_command(doctor)
cli.add_command(undo)
cli.add_command(mcp_server)


def main(argv: Sequence[str] | None = None) -> int:
    with stopped_by_signals():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="autodev", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except AutodevError as exc:
        err.print(f"[red]error:[/] {esc(redact(exc.message))}", highlight=False)  # messages may quote input
        if exc.hint:
            err.print(f"  {esc(redact(exc.hint))}", highlight=False)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
