"""Headless Chromium on a run page: its rendered DOM (what a browser makes of the file) or a screenshot.

The page's tests check what a browser renders, not only the HTML text, and `docs/run-page.png` is
taken the same way. Chromium runs through `run_process`: its own process group, ended whole when it
finishes, times out or is interrupted, so no browser process outlives the call. A throwaway profile
directory keeps it from reading or writing the user's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio

from autodev.core.errors import UserError
from autodev.core.process import Command, HeadTail, run_process

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 60.0
WINDOW = (1400, 1700)  # width, height of the screenshot
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container the sandbox can't start; the page is local and has no script
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
)


def find_chromium() -> str | None:
    """The Chromium (or Chrome) on PATH, or None."""
    return next((found for name in NAMES if (found := shutil.which(name))), None)


@dataclass(frozen=True)
class Rendered:
    exit_code: int | None  # None: timed out
    output: str  # stdout: the serialised DOM with --dump-dom
    errors: str  # stderr, capped


def render(page: Path, screenshot: Path | None = None, timeout_s: float = TIMEOUT_S) -> Rendered:
    """The page as Chromium renders it (its DOM after parsing, and after any script, were one allowed),
    and a PNG of its first screen (WINDOW) at `screenshot` when given: one browser start for both."""
    browser = find_chromium()
    if browser is None:
        raise UserError("chromium is not installed", hint="apt-get install chromium (Debian, Ubuntu)")
    shot = [f"--screenshot={screenshot.resolve()}"] if screenshot is not None else []
    with tempfile.TemporaryDirectory(prefix="autodev-chromium-") as profile:
        argv = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *shot]
        command = Command.of([*argv, "--dump-dom", page.resolve().as_uri()], Path(profile), dict(os.environ))
        output, errors = HeadTail.everything(), HeadTail(4000, 4000)
        finished = anyio.run(run_process, command, timeout_s, output, errors)
    return Rendered(finished.exit_code, output.decoded(), errors.decoded())
