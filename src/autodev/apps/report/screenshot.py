"""`python -m autodev.apps.report.screenshot [PNG]`: the picture of a run page that the README shows.

Runs the demo (scripted replies, no key; in a temporary directory, removed after), writes its run
page with `autodev report --html`'s code and has headless Chromium photograph the first screen.
Default target: docs/run-page.png. The page itself is kept next to the picture only with --keep-html.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from autodev.apps.demo import run_demo
from autodev.apps.report.chromium import render
from autodev.apps.report.page import write_page
from autodev.run.report_view import build_report

DEFAULT_TARGET = Path("docs/run-page.png")


def take(target: Path, keep_html: bool = False) -> Path:
    """Run the demo, write its page, photograph it to `target`; the page's path (deleted unless kept)."""
    with tempfile.TemporaryDirectory(prefix="autodev-run-page-") as scratch:
        result = run_demo(parent=Path(scratch))
        if result.state.status != "done":
            raise SystemExit(f"the demo run ended {result.state.status}: {result.state.error}")
        root = Path(result.state.repo)
        page = Path(scratch) / "run-page.html"
        write_page(root, build_report(root, result.run_dir), page)
        rendered = render(page, target)
        if rendered.exit_code != 0 or not target.is_file():
            raise SystemExit(f"chromium did not take the screenshot (exit {rendered.exit_code}): {rendered.errors}")
        kept = target.with_suffix(".html")
        if keep_html:
            shutil.copyfile(page, kept)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autodev.apps.report.screenshot", description=__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_TARGET, help="the PNG to write")
    parser.add_argument("--keep-html", action="store_true", help="also keep the page, next to the PNG")
    args = parser.parse_args(argv)
    take(args.target, args.keep_html)
    print(f"run page screenshot written to {args.target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
