"""`python -m autodev.apps.figures [--check] [--slow] [--quick] [--data DIR] [FILE ...]`.

Without `--check` it reruns every block's command and rewrites README.md and docs/*.md in place
(`--quick`: only the plain, deterministic blocks; `--only TEXT`: only the blocks whose command
contains TEXT). With `--check` it writes nothing: plain blocks (and
with `--slow` the slow ones) are rerun and diffed; the others must name a real command, and a
machine-dependent block must carry its `Measured ...` line. Exit 0 when all is fresh, 1 when a block is
stale or wrong, 2 on a usage error (an unreadable file, a broken marker).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from autodev.apps.figures.blocks import Block, BlockError, Kind, body_for, find_blocks, normalised, rewrite
from autodev.apps.figures.runner import Runner, command_problem, needs_missing_data, stamp_line


def default_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m autodev.apps.figures",
        description="Rerun the command behind every figures block of README.md and docs/*.md; rewrite the blocks.",
    )
    parser.add_argument("files", nargs="*", type=Path, help="markdown files (default: README.md and docs/*.md)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a block is stale")
    parser.add_argument("--slow", action="store_true", help="with --check: rerun and diff the slow blocks too")
    parser.add_argument("--quick", action="store_true", help="rewrite only the plain (quick, deterministic) blocks")
    parser.add_argument("--only", metavar="TEXT", help="rerun only the blocks whose command contains TEXT")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout; commands run there (default: .)")
    parser.add_argument("--data", type=Path, help="the shared data directory (default: ROOT/../shared/data)")
    return parser.parse_args(argv)


def rerun(block: Block, *, check: bool, slow: bool, quick: bool, only: str | None = None) -> bool:
    """Whether this block's command is run now."""
    if only is not None and only not in block.command:
        return False
    if check:
        return block.kind is Kind.CHECKED or (slow and block.kind is Kind.SLOW)
    return not quick or block.kind is Kind.CHECKED


def process(path: Path, args: argparse.Namespace, data: Path, runner: Runner) -> list[str]:
    """The problems found in one file (rewriting it unless --check)."""
    text = path.read_text(encoding="utf-8")
    problems: list[str] = []
    outputs: dict[int, list[str]] = {}
    for block in find_blocks(text):
        where = f"{path.name}:{block.open_line + 1}"
        problem = command_problem(block.command)
        if problem is not None:
            problems.append(f"{where}: {problem}")
            continue
        if block.kind is Kind.MACHINE and args.check and block.stamp is None:
            problems.append(f"{where}: a machine-dependent block needs a `Measured DATE on MACHINE` line")
        if not rerun(block, check=args.check, slow=args.slow, quick=args.quick, only=args.only):
            continue
        if needs_missing_data(block.command, data):
            print(f"{where}: skipped, no shared data at {data} (--data DIR)", file=sys.stderr)
            continue
        outcome = runner.run(block.command)
        print(f"{where}: {block.command} ({outcome.seconds:.1f} s)", file=sys.stderr)
        if not outcome.ok:
            problems.append(f"{where}: `{block.command}` failed: {outcome.output}")
            continue
        fresh = normalised(outcome.output)
        if args.check and fresh != normalised(block.output):
            diff = difflib.unified_diff(
                normalised(block.output).split("\n"), fresh.split("\n"), "committed", "command prints", lineterm=""
            )
            problems.append(f"{where}: stale figures from `{block.command}`:\n" + "\n".join(diff))
        stamp = stamp_line() if block.kind is Kind.MACHINE else None
        outputs[block.open_line] = body_for(block.kind, outcome.output, stamp)
    if not args.check and outputs:
        path.write_text(rewrite(text, outputs), encoding="utf-8")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    root: Path = args.root.resolve()
    data: Path = (args.data or root.parent / "shared" / "data").resolve()
    problems: list[str] = []
    runner = Runner(root, data)
    for path in args.files or default_files(root):
        try:
            problems += process(path, args, data, runner)
        except (OSError, BlockError) as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            print("hint: run it from autodev's checkout, or pass --root PATH", file=sys.stderr)
            return 2
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
