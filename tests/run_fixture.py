"""One scripted demo run shared by the screen and run-page tests (tests/test_screens.py, test_run_page.py).

The run is made once per test session (cached by the session's base temporary directory), with the
demo's scripted delays cut to 5 %, and every event the run reported is kept: the screens are
checked against a real run's records and events, not hand-made ones.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autodev.apps.demo import DEMO_REQUEST, DEMO_TIER_MODELS, demo_dir, make_demo_repo
from autodev.config.settings import CliOverrides
from autodev.engines.local.launch import run_feature
from autodev.models.fakes.scripted import ScriptedProvider
from autodev.run.events import RunEvent


@dataclass(frozen=True)
class SharedRun:
    repo: Path
    run_dir: Path
    run_id: str
    state: dict[str, Any]  # state.json as written
    events: tuple[RunEvent, ...]  # as the run reported them, in order


@functools.cache
def shared_run(base: Path) -> SharedRun:
    """The demo's pipeline under `base`, made once per session."""
    events: list[RunEvent] = []
    repo = make_demo_repo(base)
    provider = ScriptedProvider.from_file(demo_dir() / "script.yaml", delay_scale=0.05)
    cli = CliOverrides(provider="scripted", models=DEMO_TIER_MODELS)
    result = run_feature(DEMO_REQUEST, repo, cli, events.append, provider=provider)
    assert result.state.status == "done", result.state.error
    state = json.loads((result.run_dir / "state.json").read_text(encoding="utf-8"))
    return SharedRun(repo, result.run_dir, result.state.run_id, state, tuple(events))
