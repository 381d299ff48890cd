"""The two kinds of error a user meets, and the exit code each maps to.

A `UserError` is the user's to fix (bad config, bad input, a missing repository): exit 2, and nothing
was written to their repository. A `RunError` is something that happened during a run (an agent
failed, tests never passed): exit 1, and the run directory says what happened.
"""

from __future__ import annotations

EXIT_BUDGET = 3  # a run stopped at its cost cap (`max_cost_usd`), resumable with a higher one
EXIT_AWAITING_APPROVAL = 4  # a run waits at an `--approve` point for `autodev approve`


class AutodevError(Exception):
    """Base of every error the CLI turns into a message instead of a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UserError(AutodevError):
    """Bad input or configuration: exit 2, nothing written."""

    exit_code = 2


class RunError(AutodevError):
    """A run that started and could not finish: exit 1."""

    exit_code = 1


class RunInterrupted(RunError):
    """Ctrl-C (or SIGTERM) stopped a run cleanly: its state is saved and `autodev resume` goes on with it."""

    exit_code = 130
