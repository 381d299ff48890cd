"""Finding the processes a test started, by a marker in their command line (Linux /proc)."""

from __future__ import annotations

import time
from pathlib import Path


def processes_mentioning(marker: str, settle_s: float = 0.0) -> list[int]:
    """Live processes (a jail's included) whose command line holds `marker`; with `settle_s`, waits up to
    that long for them to go (a kill takes a moment to land)."""
    deadline = time.monotonic() + settle_s
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)
