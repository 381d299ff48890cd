"""Running programs: the environment they get, and (soon) one runner with capped output and one set of kill rules."""

from __future__ import annotations

import os

SECRET_ENV_MARKERS = ("API_KEY", "TOKEN", "SECRET", "PASSWORD")


def scrubbed_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not any(m in k.upper() for m in SECRET_ENV_MARKERS)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
